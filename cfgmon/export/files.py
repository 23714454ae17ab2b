"""Tables written as Parquet or CSV files, one folder per table.

A table with an account_id column is Hive-partitioned by account, in folders named
`<table>/account=acct-<id>/data_0.<ext>`; any other table, and a table with no rows,
is one file `<table>/data_0.<ext>` (an empty table's file still carries its
columns). The files keep account_id as a text column of their own.

The partition key is not account_id and its value is not a bare number, because
readers that discover Hive partitions (DuckDB, Spark and others) type a folder
value that looks like a number as a number, and a key named like a column in the
file replaces that column (in DuckDB and Spark the folder wins): an
`account_id=111111111111` folder reads back as a BIGINT, and Spark reads
`account_id=012345678901` as 12345678901. A key of its own whose value no reader
takes for a number leaves the file's account_id text under every reader's defaults,
and still lets a query skip the other accounts' folders
(`WHERE account = 'acct-012345678901'`). CSV has no types: a CSV reader must be told
that account_id is text.

Each export is written into a hidden staging folder inside DIR and each table's
folder is then swapped into place, so exporting again replaces a table's files and
never mixes two exports.

A shard's database (`collect --organization --shard K/N`) exports into a lake that
the other shards export into too, so it writes and replaces only what is its own:
the account folders of the accounts of its shard (which it can tell from the folder
name alone, so an account that left the organisation goes with its shard's next
export), and, for a table with no account_id (derived tables), a folder
`<table>/shard=K-of-N/`. A table without rows of the shard's accounts gets an empty
file in `<table>/account=none-K-of-N/`, so that every file of a table sits in a
folder of the same partition key, as Hive-partition readers require. Shards write
disjoint folders, so they may export at the same time.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cfgmon.errors import DatabaseError, UsageError
from cfgmon.shards import Shard

if TYPE_CHECKING:
    from cfgmon.store.query import TableInfo

PARTITION_SOURCE = "account_id"  # the column a table is partitioned by
PARTITION_KEY = "account"        # its folder key: not the column's name, see above
PARTITION_PREFIX = "acct-"       # makes the folder value text for every reader
SHARD_KEY = "shard"              # the folder key of a shard's rows of a table without accounts
EMPTY_PREFIX = "none-"           # account folder of a shard's empty file: account=none-2-of-3


@dataclass(frozen=True)
class FileFormat:
    name: str
    copy_options: str   # DuckDB COPY options
    extension: str


FILE_FORMATS: dict[str, FileFormat] = {
    "parquet": FileFormat("parquet", "FORMAT parquet", "parquet"),
    "csv": FileFormat("csv", "FORMAT csv, HEADER true", "csv"),
}


@dataclass(frozen=True)
class ExportedTable:
    name: str
    rows: int
    partitioned: bool
    location: str


@dataclass(frozen=True)
class ExportResult:
    destination: str
    tables: list[ExportedTable]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def export_files(
    con: duckdb.DuckDBPyConnection, directory: str | Path, file_format: str
) -> ExportResult:
    """Write every table of `con` under `directory`, replacing an earlier export
    (of a shard's database: replacing that shard's own folders only)."""
    fmt = FILE_FORMATS.get(file_format)
    if fmt is None:
        raise UsageError(
            f"unknown export format {file_format!r}; choose one of: {', '.join(FILE_FORMATS)}"
        )
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"cannot export to {directory}: it is a file, not a folder")
    shard = held_shard(con)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".cfgmon-export-", dir=directory))
    except OSError as exc:
        raise UsageError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    try:
        from cfgmon.store.query import describe_tables  # sqlglot: not at start-up

        tables = describe_tables(con)
        if shard is None:
            exported = [_write_table(con, table, staging, fmt) for table in tables]
            for table in exported:
                _swap_in(staging / table.name, directory / table.name, staging)
        else:
            exported = [_write_shard_table(con, table, staging, fmt, shard) for table in tables]
            for table in exported:
                _swap_in_shard(staging / table.name, directory / table.name, staging, shard)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        str(directory),
        [ExportedTable(t.name, t.rows, t.partitioned, str(directory / t.name)) for t in exported],
    )


def held_shard(con: duckdb.DuckDBPyConnection) -> Shard | None:
    """The shard the database holds (collect --shard), or None for whole collections."""
    try:
        rows = con.execute("SELECT shard_index, shard_count FROM cfgmon_shard").fetchall()
    except duckdb.CatalogException:  # a database from before shards
        return None
    return Shard(*rows[0]) if rows else None


def _write_table(
    con: duckdb.DuckDBPyConnection, table: TableInfo, staging: Path, fmt: FileFormat
) -> ExportedTable:
    partitioned = table.rows > 0 and _has_accounts(table)
    return _copy(con, table, _ident(table.name), staging / table.name, fmt, partitioned,
                 table.rows)


def _write_shard_table(
    con: duckdb.DuckDBPyConnection, table: TableInfo, staging: Path, fmt: FileFormat,
    shard: Shard,
) -> ExportedTable:
    """The shard's own rows of the table, in folders no other shard writes."""
    target = staging / table.name
    if not _has_accounts(table):
        target.mkdir()
        return _copy(con, table, _ident(table.name), target / f"{SHARD_KEY}={shard.tag}", fmt,
                     False, table.rows)
    accounts = [
        account_id for (account_id,) in con.execute(
            f"SELECT DISTINCT {_ident(PARTITION_SOURCE)} FROM {_ident(table.name)}"
        ).fetchall()
        if account_id is not None and shard.owns(account_id)
    ]
    if not accounts:
        target.mkdir()
        empty = f"(SELECT * FROM {_ident(table.name)} LIMIT 0)"
        return _copy(con, table, empty, target / f"{PARTITION_KEY}={EMPTY_PREFIX}{shard.tag}",
                     fmt, False, 0)
    listed = ", ".join(_text(account_id) for account_id in accounts)
    own = f"(SELECT * FROM {_ident(table.name)} WHERE {_ident(PARTITION_SOURCE)} IN ({listed}))"
    [(rows,)] = con.execute(f"SELECT count(*) FROM {own}").fetchall()
    return _copy(con, table, own, target, fmt, True, rows)


def _copy(
    con: duckdb.DuckDBPyConnection, table: TableInfo, source: str, target: Path,
    fmt: FileFormat, partitioned: bool, rows: int,
) -> ExportedTable:
    """COPY `source` (a table or subquery) to `target`: account folders, or one file."""
    if partitioned:
        # The key column exists only for PARTITION_BY, which leaves it out of the files.
        source = (
            f"(SELECT *, '{PARTITION_PREFIX}' || {_ident(PARTITION_SOURCE)} "
            f"AS {_ident(PARTITION_KEY)} FROM {source})"
        )
        destination = target
        options = f"{fmt.copy_options}, PARTITION_BY ({_ident(PARTITION_KEY)})"
    else:
        target.mkdir(parents=True)
        destination = target / f"data_0.{fmt.extension}"
        options = fmt.copy_options
    try:
        con.execute(f"COPY {source} TO {_literal(destination)} ({options})")
    except duckdb.Error as exc:
        raise DatabaseError(
            f"cannot export table {table.name}: {str(exc).strip().splitlines()[0]}"
        ) from None
    return ExportedTable(table.name, rows, partitioned, str(target))


def _has_accounts(table: TableInfo) -> bool:
    return any(c.name == PARTITION_SOURCE for c in table.columns)


def _swap_in(new: Path, target: Path, staging: Path) -> None:
    try:
        if target.is_dir() and not target.is_symlink():
            target.rename(staging / f"{target.name}.previous")
        elif target.exists() or target.is_symlink():
            target.unlink()
        new.rename(target)
    except OSError as exc:
        raise UsageError(f"cannot replace {target}: {exc.strerror or exc}") from None


def _swap_in_shard(new: Path, target: Path, staging: Path, shard: Shard) -> None:
    """Replace the shard's own folders of one table in the lake, and only those."""
    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write to {target}: {exc.strerror or exc}") from None
    whole = [p.name for p in target.iterdir() if not p.is_dir()]
    if whole:
        raise UsageError(
            f"{target} holds the export of a whole database ({whole[0]}); export the shards "
            "of an organisation into a folder of their own"
        )
    retired = staging / f"{target.name}.previous"
    retired.mkdir()
    try:
        for folder in target.iterdir():
            if _shard_folder(folder.name, shard):
                folder.rename(retired / folder.name)
        for folder in new.iterdir():
            folder.rename(target / folder.name)
    except OSError as exc:
        raise UsageError(f"cannot replace {target}: {exc.strerror or exc}") from None


def _shard_folder(name: str, shard: Shard) -> bool:
    """Whether a table's folder is the shard's own: its accounts' or its empty file's."""
    key, _, value = name.partition("=")
    if key == SHARD_KEY:
        return value == shard.tag
    if key != PARTITION_KEY:
        return False
    if value.startswith(EMPTY_PREFIX):
        return value == f"{EMPTY_PREFIX}{shard.tag}"
    return value.startswith(PARTITION_PREFIX) and shard.owns(value.removeprefix(PARTITION_PREFIX))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
