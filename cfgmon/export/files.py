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
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cfgmon.errors import DatabaseError, UsageError
from cfgmon.store.query import TableInfo, describe_tables

PARTITION_SOURCE = "account_id"  # the column a table is partitioned by
PARTITION_KEY = "account"        # its folder key: not the column's name, see above
PARTITION_PREFIX = "acct-"       # makes the folder value text for every reader


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
    """Write every table of `con` under `directory`, replacing an earlier export."""
    fmt = FILE_FORMATS.get(file_format)
    if fmt is None:
        raise UsageError(
            f"unknown export format {file_format!r}; choose one of: {', '.join(FILE_FORMATS)}"
        )
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"cannot export to {directory}: it is a file, not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".cfgmon-export-", dir=directory))
    except OSError as exc:
        raise UsageError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    try:
        exported = [
            _write_table(con, table, staging, fmt) for table in describe_tables(con)
        ]
        for table in exported:
            _swap_in(staging / table.name, directory / table.name, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        str(directory),
        [ExportedTable(t.name, t.rows, t.partitioned, str(directory / t.name)) for t in exported],
    )


def _write_table(
    con: duckdb.DuckDBPyConnection, table: TableInfo, staging: Path, fmt: FileFormat
) -> ExportedTable:
    target = staging / table.name
    source = _ident(table.name)
    partitioned = table.rows > 0 and any(c.name == PARTITION_SOURCE for c in table.columns)
    if partitioned:
        # The key column exists only for PARTITION_BY, which leaves it out of the files.
        source = (
            f"(SELECT *, '{PARTITION_PREFIX}' || {_ident(PARTITION_SOURCE)} "
            f"AS {_ident(PARTITION_KEY)} FROM {source})"
        )
        destination = target
        options = f"{fmt.copy_options}, PARTITION_BY ({_ident(PARTITION_KEY)})"
    else:
        target.mkdir()
        destination = target / f"data_0.{fmt.extension}"
        options = fmt.copy_options
    try:
        con.execute(f"COPY {source} TO {_literal(destination)} ({options})")
    except duckdb.Error as exc:
        raise DatabaseError(
            f"cannot export table {table.name}: {str(exc).strip().splitlines()[0]}"
        ) from None
    return ExportedTable(table.name, table.rows, partitioned, str(target))


def _swap_in(new: Path, target: Path, staging: Path) -> None:
    try:
        if target.is_dir() and not target.is_symlink():
            target.rename(staging / f"{target.name}.previous")
        elif target.exists() or target.is_symlink():
            target.unlink()
        new.rename(target)
    except OSError as exc:
        raise UsageError(f"cannot replace {target}: {exc.strerror or exc}") from None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
