"""Copies of the inventory for other tools: Parquet or CSV folders, a PostgreSQL schema.

Every table of the database goes out, with the types and keys DuckDB's catalogue
gives it; nothing here repeats the schema.
"""

from __future__ import annotations

from cfgmon.export.files import FILE_FORMATS, ExportedTable, ExportResult, export_files
from cfgmon.export.postgres import DEFAULT_SCHEMA, export_postgres, postgres_type

__all__ = [
    "DEFAULT_SCHEMA",
    "FILE_FORMATS",
    "ExportedTable",
    "ExportResult",
    "export_files",
    "export_postgres",
    "postgres_type",
]
