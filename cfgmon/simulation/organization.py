"""An AWS organisation in the moto simulation: a management account and its members.

Everything goes through moto's Organizations API (CreateOrganization, CreateAccount)
except one thing: moto gives every created account a random id, and the demo wants
ids a reader can follow (111111111111, 222222222222 ...). `member_ids` renames the
created accounts inside moto's in-process backend (moto 5.2.5's
organizations_backends), which works only with a `MotoSimulation` running in this
process; without `member_ids` the ids are moto's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cfgmon.simulation.seed import Seeder


@dataclass(frozen=True)
class SimulatedOrganization:
    id: str
    management_account_id: str
    member_account_ids: tuple[str, ...]

    @property
    def account_ids(self) -> tuple[str, ...]:
        return (self.management_account_id, *self.member_account_ids)


def create_organization(
    aws: Any,
    management_account_id: str,
    members: int | Sequence[str],
) -> SimulatedOrganization:
    """Create an organisation managed by `management_account_id` with `members` accounts.

    `members` is a count (moto's random ids) or the ids the members must have.
    """
    client = Seeder(aws, management_account_id).client("organizations", "us-east-1")
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    wanted = list(members) if not isinstance(members, int) else [None] * members
    ids = []
    for number, account_id in enumerate(wanted):
        created = client.create_account(
            AccountName=f"member-{number + 1}", Email=f"member-{number + 1}@example.com"
        )["CreateAccountStatus"]["AccountId"]
        ids.append(_rename(management_account_id, created, account_id) if account_id else created)
    return SimulatedOrganization(organization["Id"], organization["MasterAccountId"], tuple(ids))


def _rename(management_account_id: str, created: str, wanted: str) -> str:
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[management_account_id]["aws"]
    account = backend.get_account_by_id(created)
    account.id = wanted
    organizations_backends.master_accounts[wanted] = organizations_backends.master_accounts.pop(
        created
    )
    return wanted
