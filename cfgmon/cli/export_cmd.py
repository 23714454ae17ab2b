"""`cfgmon export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgmon.cli.common import DbOption
from cfgmon.errors import UsageError
from cfgmon.export import DEFAULT_SCHEMA, export_files, export_postgres
from cfgmon.store.database import open_database
from cfgmon.text import counted


def export(
    db: DbOption = None,
    parquet: Annotated[
        Path | None,
        typer.Option("--parquet", metavar="DIR", help="Write Parquet under DIR/<table>/."),
    ] = None,
    csv: Annotated[
        Path | None,
        typer.Option("--csv", metavar="DIR", help="Write CSV under DIR/<table>/."),
    ] = None,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres", metavar="DSN", help="Load into a PostgreSQL database (libpq DSN or URL)."
        ),
    ] = None,
    pg_schema: Annotated[
        str, typer.Option("--pg-schema", help="PostgreSQL schema to load into.")
    ] = DEFAULT_SCHEMA,
) -> None:
    """Copy every table out for BI tools and warehouses.

    Parquet and CSV are Hive-partitioned by account_id (DIR/<table>/account_id=<id>/);
    exporting again into the same DIR replaces the earlier files. PostgreSQL gets
    every table in one transaction; running it again replaces the data.

    Example: cfgmon export --parquet ./lake
    """
    targets = [t for t in (parquet, csv, postgres) if t is not None]
    if len(targets) != 1:
        raise UsageError("give exactly one of --parquet DIR, --csv DIR or --postgres DSN")
    con = open_database(db, read_only=True)
    try:
        if postgres is not None:
            result = export_postgres(con, postgres, pg_schema)
        else:
            result = export_files(con, parquet or csv, "parquet" if parquet else "csv")
    finally:
        con.close()
    typer.echo(
        f"exported {counted(len(result.tables), 'table')} ({counted(result.rows, 'row')}) "
        f"to {result.destination}"
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
