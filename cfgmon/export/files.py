"""Tables written as Parquet or CSV files, one folder per table.

A table with an account_id column is Hive-partitioned by it
(`<table>/account_id=<id>/data_0.parquet`); any other table, and a table with no
rows, is one file `<table>/data_0.<ext>` (an empty table's file still carries its
columns). Read one back with

    read_parquet('DIR/<table>/**/*.parquet', hive_partitioning = true,
                 hive_types_autocast = false)

(without `hive_types_autocast = false` DuckDB, like Spark, guesses a number from
the account_id=... folder names and drops an account id's leading zeros.)

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

PARTITION_COLUMN = "account_id"


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
    partitioned = table.rows > 0 and any(c.name == PARTITION_COLUMN for c in table.columns)
    if partitioned:
        destination = target
        options = f"{fmt.copy_options}, PARTITION_BY ({PARTITION_COLUMN})"
    else:
        target.mkdir()
        destination = target / f"data_0.{fmt.extension}"
        options = fmt.copy_options
    try:
        con.execute(f"COPY {_ident(table.name)} TO {_literal(destination)} ({options})")
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
