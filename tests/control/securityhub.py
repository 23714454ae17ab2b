"""What Security Hub's BatchImportFindings accepts, from botocore's own API model."""

from __future__ import annotations

import botocore.session
from botocore.validate import ParamValidator


def batch_import_errors(findings: list[dict]) -> str:
    """The reasons botocore would refuse `findings` as one BatchImportFindings call ('' if none)."""
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": findings}, shape)
    return report.generate_report() if report.has_errors() else ""
