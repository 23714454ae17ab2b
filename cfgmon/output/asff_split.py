"""ASFF findings in files Security Hub can import, and the commands that import them.

With the default product ARN (`arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`),
BatchImportFindings accepts a finding only from the account named in its
`AwsAccountId`, sent to the Security Hub of the region in its `ProductArn`, and at most
100 findings a call. So the findings are grouped by account and region, each group
cut into files of at most 100, and each file gets its own command.
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from dataclasses import dataclass

from cfgmon.output.asff_format import finding

MAX_FINDINGS_PER_CALL = 100
SCRIPT_NAME = "import.sh"
# The files a split writes, so a later split into the same folder replaces exactly them.
_SPLIT_FILE = re.compile(r"^\d{12}-[a-z0-9-]+-\d+\.asff\.json$")


@dataclass(frozen=True)
class FindingsFile:
    account_id: str
    region: str
    number: int           # 1, 2, ... within its account and region
    findings: tuple[dict, ...]

    @property
    def name(self) -> str:
        return f"{self.account_id}-{self.region}-{self.number}.asff.json"

    def command(self) -> str:
        return (f"aws securityhub batch-import-findings --region {self.region} "
                f"--findings {shlex.quote('file://' + self.name)}")


def product_region(asff: dict) -> str:
    """The region of a finding's ProductArn: the region its import must call."""
    return asff["ProductArn"].split(":")[3]


def split_findings(findings: list[dict]) -> list[FindingsFile]:
    """Findings grouped by (AwsAccountId, ProductArn region), at most 100 to a file."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for item in findings:
        groups[(item["AwsAccountId"], product_region(item))].append(item)
    files = []
    for (account, region), items in sorted(groups.items()):
        for start in range(0, len(items), MAX_FINDINGS_PER_CALL):
            files.append(FindingsFile(
                account, region, start // MAX_FINDINGS_PER_CALL + 1,
                tuple(items[start:start + MAX_FINDINGS_PER_CALL]),
            ))
    return files


def import_script(files: list[FindingsFile]) -> str:
    """A shell script that imports the files of the account whose credentials run it."""
    lines = [
        "#!/bin/sh",
        "# Imports cfgmon's findings into AWS Security Hub. With the default product ARN,",
        "# Security Hub accepts a finding only from its own account (AwsAccountId), in the",
        "# region of its ProductArn: run this once with the credentials of each account",
        "# below; it imports that account's files and no other.",
        "set -eu",
        'cd "$(dirname "$0")"',
        "account=$(aws sts get-caller-identity --query Account --output text)",
        'case "$account" in',
    ]
    by_account: dict[str, list[FindingsFile]] = defaultdict(list)
    for item in files:
        by_account[item.account_id].append(item)
    for account, items in by_account.items():
        lines.append(f"  {account})")
        lines.extend(f"    {item.command()}" for item in items)
        lines.append("    ;;")
    lines += [
        '  *) echo "no findings here for account $account" >&2; exit 1 ;;',
        "esac",
        "",
    ]
    return "\n".join(lines)


def split_rows(rows, context) -> list[FindingsFile]:
    """The ASFF findings of result rows, split as `split_findings` does."""
    return split_findings([finding(row, context) for row in rows])


def is_split_file(name: str) -> bool:
    """Whether a file name is one a split writes (so a new split may replace it)."""
    return name == SCRIPT_NAME or bool(_SPLIT_FILE.match(name))
