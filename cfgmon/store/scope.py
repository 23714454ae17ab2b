"""Writing collected inventory: one scope (account, region, service) per transaction.

A scope's fetch either fully succeeded, and its rows replace the stored ones in one
transaction, or it failed, and the stored rows stay while cfgmon_collection records
the error. Only one thread writes; callers hand over whole scopes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cfgmon.errors import CfgmonError
from cfgmon.store.bulk import insert_rows, rows_view
from cfgmon.store.keys import ScopeFailure, ScopeKey
from cfgmon.store.transaction import transaction

# The tables each service's scope owns: replacing a scope deletes the scope's rows
# (account_id, region) from all of them, then inserts what the fetch returned.
SERVICE_TABLES: dict[str, tuple[str, ...]] = {
    "cloudtrail": (
        "aws_cloudtrail_trail",
        "aws_cloudtrail_trail_event_selector",
        "aws_cloudtrail_trail_advanced_event_selector",
        "aws_cloudtrail_trail_advanced_field_selector",
    ),
    "logs": (
        "aws_cloudwatch_log_group",
        "aws_cloudwatch_log_metric_filter",
        "aws_cloudwatch_log_metric_filter_dimension",
    ),
    "cloudwatch": (
        "aws_cloudwatch_alarm",
        "aws_cloudwatch_alarm_action",
        "aws_cloudwatch_alarm_dimension",
        "aws_cloudwatch_alarm_metric",
        "aws_cloudwatch_alarm_metric_dimension",
    ),
    "sns": (
        "aws_sns_topic",
        "aws_sns_topic_subscription",
        "aws_sns_topic_attributes",
        "aws_sns_topic_subscription_attributes",
        "aws_sns_topic_kms_key",
    ),
}

# Trails are also upserted one by one (a trail seen only as a shadow of a region
# that was not collected); these columns hold the trail ARN in each trail table.
TRAIL_KEY_COLUMNS: dict[str, str] = {
    "aws_cloudtrail_trail": "arn",
    "aws_cloudtrail_trail_event_selector": "trail_arn",
    "aws_cloudtrail_trail_advanced_event_selector": "trail_arn",
    "aws_cloudtrail_trail_advanced_field_selector": "trail_arn",
}

Rows = Mapping[str, Sequence[Mapping[str, Any]]]


class ShardMismatch(CfgmonError):
    """A shard collected into a database that holds another shard."""


@dataclass(frozen=True)
class ScopeWrite:
    """One fetched scope to replace: its rows (see InventoryWriter.replace_scope)."""

    key: ScopeKey
    rows: Rows
    collected_at: dt.datetime
    started_at: dt.datetime
    api_calls: int
    trail_upserts: Rows | None = None


# AccountRecord's fields that are cfgmon_account's columns, in order
ACCOUNT_COLUMNS = ("account_id", "collected_at", "source", "status", "error_code",
                   "error_message", "organization_id", "management_account_id",
                   "organization_known")


@dataclass(frozen=True)
class AccountRecord:
    """One cfgmon_account row (see schema.sql)."""

    account_id: str
    collected_at: dt.datetime
    source: str
    status: str = "ok"
    error_code: str | None = None
    error_message: str | None = None
    organization_id: str | None = None
    management_account_id: str | None = None
    organization_known: bool = False
    # the account's regions and their opt-in status, for cfgmon_account_region; None
    # keeps the rows stored before (the regions could not be listed, or were not asked)
    listed_regions: tuple[tuple[str, str], ...] | None = None


class InventoryWriter:
    """The single writer of inventory rows and collection records on one connection."""

    def __init__(self, con) -> None:
        self.con = con
        self._columns: dict[str, list[str]] = {}
        self._column_sets: dict[str, frozenset[str]] = {}
        self._primary_keys: dict[str, list[str]] = {}

    # -- scopes ------------------------------------------------------------------

    def replace_scope(
        self,
        key: ScopeKey,
        rows: Rows,
        *,
        collected_at: dt.datetime,
        started_at: dt.datetime,
        api_calls: int,
        trail_upserts: Rows | None = None,
    ) -> int:
        """Replace the scope's rows and record success, in one transaction.

        `rows` maps table name to rows for this scope; tables of the service that are
        absent or empty end up empty for the scope. `trail_upserts` are trail-table
        rows replaced by trail ARN instead (shadow trails whose home region was not
        collected). Returns the number of rows written.
        """
        write = ScopeWrite(key, rows, collected_at, started_at, api_calls, trail_upserts)
        return self.replace_scopes([write])[0]

    def replace_scopes(self, writes: Sequence[ScopeWrite]) -> list[int]:
        """replace_scope for several scopes in one transaction; rows written per scope.

        The same work in fewer, larger statements: one DELETE and one INSERT per
        table for all the scopes, one record statement. Each DuckDB statement costs
        about a millisecond, and more while fetch threads hold the interpreter lock,
        so a collector writing as fast as many threads fetch writes in batches.
        All or nothing: an error rolls every scope of the batch back and raises.
        """
        for write in writes:
            unexpected = set(write.rows) - set(SERVICE_TABLES[write.key.service])
            if unexpected:
                raise ValueError(f"{write.key.service} scope cannot write {sorted(unexpected)}")
        written = [0] * len(writes)
        by_service: dict[str, list[int]] = {}
        for index, write in enumerate(writes):
            by_service.setdefault(write.key.service, []).append(index)
        with self._transaction():
            for service, indexes in by_service.items():
                scopes = [(writes[i].key.account_id, writes[i].key.region) for i in indexes]
                with rows_view(self.con, scopes) as keys:
                    for table in SERVICE_TABLES[service]:
                        self.con.execute(
                            f"DELETE FROM {table} WHERE (account_id, region) IN "
                            f"(SELECT c0, c1 FROM {keys})"
                        )
                for table in SERVICE_TABLES[service]:
                    records = []
                    for i in indexes:
                        write = writes[i]
                        scope_records = self._records(
                            table, write.rows.get(table, ()), write.key, write.collected_at
                        )
                        written[i] += len(scope_records)
                        records.extend(scope_records)
                    self._insert_records(table, records)
            for i, write in enumerate(writes):
                if write.trail_upserts:
                    written[i] += self._upsert_trails(
                        write.trail_upserts, write.key, write.collected_at
                    )
            self._record_many([
                (write.key, write.started_at, write.collected_at, "ok", write.api_calls,
                 written[i], write.collected_at, None, None, None)
                for i, write in enumerate(writes)
            ])
        return written

    def record_failure(
        self,
        key: ScopeKey,
        failure: ScopeFailure,
        *,
        started_at: dt.datetime,
        finished_at: dt.datetime,
        api_calls: int,
    ) -> None:
        """Record a failed or skipped scope; its stored rows and last_success_at stay."""
        with self._transaction():
            self._record(
                key,
                started_at=started_at,
                finished_at=finished_at,
                status=failure.status,
                api_calls=api_calls,
                error_code=failure.error_code,
                error_message=failure.error_message,
                error_operation=failure.error_operation,
            )

    def record_failures(
        self,
        keys: Iterable[ScopeKey],
        failure: ScopeFailure,
        *,
        started_at: dt.datetime,
        finished_at: dt.datetime,
    ) -> None:
        """record_failure for many scopes that made no API calls, in one transaction."""
        with self._transaction():
            for key in keys:
                self._record(
                    key,
                    started_at=started_at,
                    finished_at=finished_at,
                    status=failure.status,
                    api_calls=0,
                    error_code=failure.error_code,
                    error_message=failure.error_message,
                    error_operation=failure.error_operation,
                )

    def collected_scopes(self, account_id: str) -> list[ScopeKey]:
        """The scopes of the account recorded as collected or failed (not skipped)."""
        rows = self.con.execute(
            "SELECT region, service FROM cfgmon_collection "
            "WHERE account_id = ? AND status IN ('ok', 'error') ORDER BY region, service",
            [account_id],
        ).fetchall()
        return [ScopeKey(account_id, region, service) for region, service in rows]

    # -- accounts ----------------------------------------------------------------

    def record_account(
        self,
        account_id: str,
        *,
        collected_at: dt.datetime,
        source: str,
        status: str = "ok",
        error_code: str | None = None,
        error_message: str | None = None,
        organization_id: str | None = None,
        management_account_id: str | None = None,
        organization_known: bool = False,
    ) -> None:
        self.record_accounts([AccountRecord(
            account_id, collected_at, source, status, error_code, error_message,
            organization_id, management_account_id, organization_known,
        )])

    def record_accounts(self, records: Sequence[AccountRecord]) -> None:
        """Upsert cfgmon_account rows, all in one statement, and replace the listed
        regions of those that carry them (cfgmon_account_region)."""
        if not records:
            return
        values = [getattr(record, column) for record in records for column in ACCOUNT_COLUMNS]
        row = "(" + ", ".join("?" * len(ACCOUNT_COLUMNS)) + ")"
        self.con.execute(
            f"INSERT OR REPLACE INTO cfgmon_account ({', '.join(ACCOUNT_COLUMNS)}) VALUES "
            + ", ".join([row] * len(records)),
            values,
        )
        listed = [record for record in records if record.listed_regions is not None]
        if not listed:
            return
        self.con.execute(
            "DELETE FROM cfgmon_account_region WHERE list_contains(?, account_id)",
            [[record.account_id for record in listed]],
        )
        insert_rows(self.con, "cfgmon_account_region", [
            (record.account_id, region, status, record.collected_at)
            for record in listed for region, status in record.listed_regions
        ])

    # -- organisations and shards ---------------------------------------------------

    def record_shard(
        self, shard, organization_id: str | None, management_account_id: str | None,
        accounts: Iterable[tuple[str, str | None, str]], listed_at: dt.datetime,
    ) -> None:
        """Record that this database holds `shard` (a cfgmon.shards.Shard) of the
        organisation, with the organisation's accounts as (id, name, state).

        ShardMismatch when the database already holds another shard: each shard is
        collected into a database of its own, whose export writes its accounts.
        """
        from cfgmon.shards import shard_of

        held = self.con.execute(
            "SELECT shard_index, shard_count, organization_id FROM cfgmon_shard"
        ).fetchall()
        if held and held[0] != (shard.index, shard.count, organization_id):
            index, count, organization = held[0]
            raise ShardMismatch(
                f"the database holds shard {index}/{count} of organisation {organization}: "
                f"collect shard {shard} into a database of its own (--db)"
            )
        rows = [
            (account_id, organization_id, management_account_id, name, state,
             f"{shard_of(account_id, shard.count)}/{shard.count}", listed_at)
            for account_id, name, state in accounts
        ]
        with self._transaction():
            self.con.execute("DELETE FROM cfgmon_shard")
            self.con.execute("INSERT INTO cfgmon_shard VALUES (?, ?, ?, ?)",
                             [shard.index, shard.count, organization_id, listed_at])
            self.con.execute("DELETE FROM cfgmon_organization_account")
            insert_rows(self.con, "cfgmon_organization_account", rows)

    # -- internals ---------------------------------------------------------------

    def _transaction(self):
        return transaction(self.con)

    def _record(
        self,
        key: ScopeKey,
        *,
        started_at: dt.datetime,
        finished_at: dt.datetime,
        status: str,
        api_calls: int,
        rows_written: int | None = None,
        last_success_at: dt.datetime | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        error_operation: str | None = None,
    ) -> None:
        self._record_many([
            (key, started_at, finished_at, status, api_calls, rows_written, last_success_at,
             error_code, error_message, error_operation)
        ])

    def _record_many(self, records: Sequence[tuple]) -> None:
        """Upsert cfgmon_collection rows: (key, started_at, finished_at, status, api_calls,
        rows_written, last_success_at, error_code, error_message, error_operation)."""
        if not records:
            return
        values = [
            (key.account_id, key.region, key.service, started_at, finished_at, status,
             error_code, error_message, error_operation, api_calls, rows_written,
             last_success_at)
            for (key, started_at, finished_at, status, api_calls, rows_written, last_success_at,
                 error_code, error_message, error_operation) in records
        ]
        # last_success_at survives a failed attempt: it dates the rows still stored.
        with rows_view(self.con, values) as view:
            self.con.execute(f"""
            INSERT INTO cfgmon_collection AS c
                (account_id, region, service, started_at, finished_at, status, error_code,
                 error_message, error_operation, api_calls, rows_written, last_success_at)
            SELECT * FROM {view}
            ON CONFLICT (account_id, region, service) DO UPDATE SET
                started_at = excluded.started_at,
                finished_at = excluded.finished_at,
                status = excluded.status,
                error_code = excluded.error_code,
                error_message = excluded.error_message,
                error_operation = excluded.error_operation,
                api_calls = excluded.api_calls,
                rows_written = excluded.rows_written,
                last_success_at = coalesce(excluded.last_success_at, c.last_success_at)
            """)

    def _upsert_trails(self, rows: Rows, key: ScopeKey, collected_at: dt.datetime) -> int:
        arns = sorted({row["arn"] for row in rows.get("aws_cloudtrail_trail", ())})
        written = 0
        for table, arn_column in TRAIL_KEY_COLUMNS.items():
            if arns:
                placeholders = ", ".join("?" * len(arns))
                self.con.execute(
                    f"DELETE FROM {table} WHERE account_id = ? AND {arn_column} IN ({placeholders})",
                    [key.account_id, *arns],
                )
            written += self._insert(table, rows.get(table, ()), key, collected_at)
        return written

    def _insert(
        self,
        table: str,
        rows: Iterable[Mapping[str, Any]],
        key: ScopeKey,
        collected_at: dt.datetime,
    ) -> int:
        records = self._records(table, rows, key, collected_at)
        self._insert_records(table, records)
        return len(records)

    def _records(
        self,
        table: str,
        rows: Iterable[Mapping[str, Any]],
        key: ScopeKey,
        collected_at: dt.datetime,
    ) -> list[list]:
        """The scope's rows as value lists in column order, one per primary key."""
        columns = self._table_columns(table)
        known = self._column_sets[table]
        defaults = {"account_id": key.account_id, "region": key.region, "collected_at": collected_at}
        filled = [(c, defaults.get(c)) for c in columns]
        records = []
        for row in rows:
            if not row.keys() <= known:
                raise ValueError(f"{table} has no column(s) {sorted(row.keys() - known)}")
            records.append([_sql_value(row.get(c, default)) for c, default in filled])
        return self._unique(table, columns, records)

    def _insert_records(self, table: str, records: list[list]) -> None:
        insert_rows(self.con, table, records, self._table_columns(table))

    def _unique(self, table: str, columns: list[str], records: list[list]) -> list[list]:
        """Keep the last row per primary key: an API that repeats an item must not fail the scope."""
        key_columns = self._primary_key(table)
        if not key_columns:
            return records
        positions = [columns.index(c) for c in key_columns]
        by_key = {tuple(record[p] for p in positions): record for record in records}
        return list(by_key.values())

    def _table_columns(self, table: str) -> list[str]:
        if table not in self._columns:
            self._read_catalog()   # the first use, or a table made since
        if table not in self._columns:
            raise ValueError(f"no table {table} in the schema")
        return self._columns[table]

    def _primary_key(self, table: str) -> list[str]:
        self._table_columns(table)
        return self._primary_keys.get(table, [])

    def _read_catalog(self) -> None:
        """Every table's columns and primary key, in two queries (about 8 ms a table,
        asked one by one, most of a small collect's own time)."""
        here = "database_name = current_database() AND schema_name = current_schema()"
        for table, columns in self.con.execute(
            f"SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
            f"WHERE {here} GROUP BY table_name"
        ).fetchall():
            self._columns[table] = columns
            self._column_sets[table] = frozenset(columns)
        for table, columns in self.con.execute(
            f"SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            f"WHERE {here} AND constraint_type = 'PRIMARY KEY'"
        ).fetchall():
            self._primary_keys[table] = list(columns)


def _sql_value(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=_json_default, sort_keys=False)
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
