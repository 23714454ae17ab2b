"""A remediation plan: the AWS API calls that fix one result's broken link.

Each step is one API call (service, operation, parameters, as boto3 and the AWS API
name them), in the account and region it must run in. The AWS CLI text and the
Terraform are both rendered from these steps, so they cannot disagree; cfgmon never
runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name


@dataclass(frozen=True)
class ApiCall:
    service: str                    # boto3's and the AWS CLI's name: logs, cloudwatch, sns, …
    operation: str                  # the API's name: PutMetricFilter
    params: Mapping[str, Any]       # the API's parameters, as boto3 takes them
    account_id: str
    region: str

    @property
    def method(self) -> str:
        """The boto3 client method: put_metric_filter."""
        return xform_name(self.operation)

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "params": dict(self.params),
                "account_id": self.account_id, "region": self.region}


@dataclass(frozen=True)
class Step:
    link: str                       # the drawn link it fixes (cfgmon.controls.links)
    title: str                      # what it does and why, naming the offending setting
    call: ApiCall
    # The resource's current settings (in the call's vocabulary) that the call leaves
    # alone: Terraform describes whole resources, so it needs them too.
    current: Mapping[str, Any] = field(default_factory=dict)
    existing: bool = False          # it changes a resource that exists (Terraform imports it)

    def as_dict(self) -> dict[str, Any]:
        return {"link": self.link, "title": self.title, **self.call.as_dict(),
                "existing": self.existing}


@dataclass(frozen=True)
class Plan:
    control_id: str
    account_id: str
    broken_link: int | None
    reason: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()     # what the steps cannot do or the user must decide

    def as_dict(self) -> dict[str, Any]:
        return {"control_id": self.control_id, "account_id": self.account_id,
                "broken_link": self.broken_link, "steps": [s.as_dict() for s in self.steps],
                "notes": list(self.notes)}
