"""Opening the DuckDB file: path resolution, schema creation and migration, clear errors."""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from cfgmon.errors import DatabaseError, DatabaseInUse
from cfgmon.store.keys import utc_now
from cfgmon.text import counted

DEFAULT_DB = "cfgmon.duckdb"
SCHEMA_VERSION = 5


@dataclass(frozen=True)
class Migration:
    """One step of the schema's history: the statements that turn version-1 into `version`."""

    version: int
    summary: str
    statements: tuple[str, ...]


# Every change to a table that already existed, oldest first. A database at version
# N gets each step above N, in order, then schema.sql (which creates the tables that
# are new), all in one transaction. A new table needs no step; a new, renamed or
# retyped column of an existing table does. The last step's version is SCHEMA_VERSION.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        2,
        "aws_cloudtrail_trail.detail_error: why a trail's status or selectors are missing; "
        "new table cfgmon_catalogue_value",
        ("ALTER TABLE aws_cloudtrail_trail ADD COLUMN IF NOT EXISTS detail_error VARCHAR",),
    ),
    Migration(
        3,
        "derived tables keyed by event set (recreated: check derives them anew); "
        "cfgmon_account.organization_known; cfgmon_check_result.framework; new tables "
        "cfgmon_trail_capture and cfgmon_chain_control",
        (
            "DROP TABLE IF EXISTS cfgmon_pattern_coverage",
            "DROP TABLE IF EXISTS cfgmon_catalogue_value",
            "ALTER TABLE cfgmon_account ADD COLUMN IF NOT EXISTS organization_known BOOLEAN",
            "ALTER TABLE cfgmon_check_result ADD COLUMN IF NOT EXISTS framework VARCHAR",
        ),
    ),
    Migration(
        4,
        "cfgmon_pattern_coverage keyed by judged account too (recreated: check derives it "
        "anew); new tables cfgmon_metric_coverage, cfgmon_alarm_response, "
        "cfgmon_alarm_route, aws_sns_topic_attributes, aws_sns_topic_subscription_attributes "
        "and aws_sns_topic_kms_key (collected with the sns scope), cfgmon_topic_delivery",
        ("DROP TABLE IF EXISTS cfgmon_pattern_coverage",),
    ),
    Migration(
        5,
        "new tables cfgmon_account_region (the regions each account lists, written when it "
        "is opened for collection), cfgmon_judged_coverage, cfgmon_judged_value and "
        "cfgmon_group_coverage (alarm_chain v4's derived rows)",
        (),
    ),
)

# What DuckDB says when the file is not (all) there or fails its checksums.
_DAMAGE_MARKERS = (
    "not a valid duckdb database file",
    "could not read enough bytes",
    "corrupt database file",
    "checksum",
)
# What DuckDB's lock error says about the process holding the file: "Conflicting lock
# is held in <program> (PID 4242)", and, when the holder only reads (a read lock could
# still be had), "you would be able to open this database in read-only mode".
_LOCK_MARKER = "could not set lock"
_LOCK_PID = re.compile(r"\(PID (\d+)\)")
_HOLDER_READS_ONLY = "able to open this database in read-only mode"
_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file
_HEADER_BYTES = 3 * 4096  # DuckDB's main header and two database headers; block 0 follows
_SQLITE_HEADER = b"SQLite format 3\x00"


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    """--db, else $CFGMON_DB, else ./cfgmon.duckdb."""
    return Path(db or os.environ.get("CFGMON_DB") or DEFAULT_DB)


def schema_sql() -> str:
    return resources.files("cfgmon.store").joinpath("schema.sql").read_text(encoding="utf-8")


def open_database(db: str | os.PathLike | None = None, *, read_only: bool = False):
    """Open (creating, or migrating to SCHEMA_VERSION, when needed) the inventory database.

    Read-only opening of a file that does not exist is an error rather than silently
    creating an empty database; read-only opening of an older cfgmon database
    migrates it first. Every failure is a DatabaseError that says what to do.
    """
    path = resolve_db_path(db)
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a cfgmon database file")
    if read_only and not path.exists():
        raise DatabaseError(f"no database at {path}: run `cfgmon collect` first (or pass --db)")
    if not read_only and not path.parent.exists():
        raise DatabaseError(f"cannot create {path}: folder {path.parent} does not exist")
    _check_header(path)
    con = _connect(path, read_only)
    try:
        _check_length(con, path)
        if not read_only:
            _ensure_schema(con, path)
            return con
        version = _stored_version(con, path)
        if version is None or version == SCHEMA_VERSION:
            return con
        _check_not_newer(version, path)
        con.close()
        try:
            upgrading = _connect(path, read_only=False)
        except DatabaseInUse as exc:
            raise DatabaseError(
                f"database {path} needs migrating from schema version {version} to "
                f"{SCHEMA_VERSION}, which needs the file to itself, but it is open in another "
                f"process{exc.holder}: close it and run again"
            ) from None
        try:
            _ensure_schema(upgrading, path)
        finally:
            upgrading.close()
        con = _connect(path, read_only=True)
        return con
    except BaseException:
        con.close()
        raise


@contextlib.contextmanager
def collecting_database(db: str | os.PathLike | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_database` for writing, closed when the block ends.

    When the block fails and this opening created the file, the file is removed again
    if nothing but the schema went into it: a collection that could not start (no
    credentials, an endpoint that is not AWS, an unknown region) leaves no empty
    database behind for `check` to mistake for an inventory. A file that existed is
    never removed.
    """
    path = resolve_db_path(db)
    existed = path.exists()
    con = open_database(path)
    try:
        yield con
    except BaseException:
        unused = not existed and _holds_no_rows(con)
        con.close()
        if unused:
            for leftover in (path, path.with_name(f"{path.name}.wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink(missing_ok=True)
        raise
    con.close()


def _holds_no_rows(con) -> bool:
    """True when no table but cfgmon_schema has a row; False when that cannot be read."""
    try:
        return not any(
            con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
            for table in schema_tables() if table != "cfgmon_schema"
        )
    except duckdb.Error:
        return False


def damage_error(exc: BaseException, path: str | os.PathLike | None = None) -> DatabaseError | None:
    """The DatabaseError for a DuckDB error that means the file is damaged, else None.

    Damage in a data block shows only when a query reads it, long after opening.
    """
    if not isinstance(exc, duckdb.Error):
        return None
    text = _first_line(str(exc))
    if not any(marker in text.lower() for marker in _DAMAGE_MARKERS):
        return None
    where = f"{path} " if path is not None else ""
    return DatabaseError(
        f"database {where}is damaged ({text}); restore it from a copy or collect into a new file"
    )


def _check_header(path: Path) -> None:
    """Refuse a file that is not a DuckDB database before DuckDB guesses what else it is."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head[8:12] == _MAGIC:
        return
    if head.startswith(_SQLITE_HEADER):
        what = "is a SQLite database, not a DuckDB database"
    elif not head:
        what = "is an empty file, not a DuckDB database"
    else:
        what = "is not a DuckDB database file"
    raise DatabaseError(f"{path} {what}; pass --db with a cfgmon database or a new file name")


def _check_length(con, path: Path) -> None:
    """A file too short to hold a block in use was cut short (a full disk, a broken copy).

    Only blocks in use count: at a checkpoint DuckDB cuts free blocks off the end of
    the file while its header still counts them, so a healthy file is often shorter
    than total_blocks x block_size. A cut that only removes free blocks, or blocks
    DuckDB does not list (index storage), passes here; DuckDB raises when a query
    reads a missing block, and damage_error names that too.
    """
    try:
        [(block_size, total_blocks, used_blocks)] = con.execute(
            "SELECT block_size, total_blocks, used_blocks FROM pragma_database_size()"
        ).fetchall()
        length = path.stat().st_size
        # Every block id is below total_blocks, so a file that long holds them all and
        # the scan of the storage below (some 40 ms on a 100 MB file) is not needed.
        if length >= _HEADER_BYTES + total_blocks * block_size:
            return
        # The blocks in use have distinct ids, so the highest is at least used - 1.
        highest = max(used_blocks - 1, _highest_listed_block(con))
    except duckdb.Error as exc:
        damaged = damage_error(exc, path)
        if damaged is not None:
            raise damaged from None
        return
    except OSError:
        return
    needed = _HEADER_BYTES + (highest + 1) * block_size
    if highest >= 0 and length < needed:
        raise DatabaseError(
            f"database {path} is damaged (the file has {counted(length, 'byte')}, the blocks "
            f"in use need {needed}: it was cut short); restore it from a copy or collect into "
            "a new file"
        )


def _highest_listed_block(con) -> int:
    """The highest block id holding metadata or a stored column segment; -1 when none."""
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()
    # One statement for every table: a query per table would cost more than the check.
    segments = "".join(
        " UNION ALL SELECT greatest(block_id, list_max(additional_block_ids)) "
        "FROM pragma_storage_info('{}') WHERE persistent".format(name.replace("'", "''"))
        for (name,) in tables
    )
    [(highest,)] = con.execute(
        f"SELECT coalesce(max(block_id), -1) FROM (SELECT block_id FROM pragma_metadata_info(){segments})"
    ).fetchall()
    return highest


def _connect(path: Path, read_only: bool):
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = _first_line(str(exc))
        if _LOCK_MARKER in text.lower():
            raise _in_use_error(path, text) from None
        damaged = damage_error(exc, path)
        if damaged is not None:
            raise damaged from None
        if isinstance(exc, duckdb.IOException):
            raise DatabaseError(f"cannot open {path}: {text}") from None
        raise DatabaseError(f"{path} is not a readable DuckDB database: {text}") from None


def _in_use_error(path: Path, text: str) -> DatabaseInUse:
    """Who holds the file, as far as DuckDB's lock error says, and what to do about it."""
    pid = _LOCK_PID.search(text)
    reads_only = _HOLDER_READS_ONLY in text.lower()
    facts = ([f"PID {pid.group(1)}"] if pid else []) + (["read-only"] if reads_only else [])
    holder = f" ({', '.join(facts)})" if facts else ""
    if reads_only:
        advice = (
            "close it and run again, or use `cfgmon check --no-record`, which writes nothing; "
            "BI tools should read an export (`cfgmon export --parquet DIR`) or a copy of the file"
        )
    else:
        advice = "close it, or wait for it to finish, and run again"
    return DatabaseInUse(f"database {path} is open in another process{holder}: {advice}", holder)


def _stored_version(con, path: Path) -> int | None:
    """The schema version recorded in the database; None when it has no cfgmon tables.

    A DuckDB database with tables but no cfgmon_schema was not made by cfgmon.
    """
    try:
        tables = {
            name for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        }
        if "cfgmon_schema" not in tables:
            if tables:
                raise DatabaseError(
                    f"{path} is a DuckDB database that cfgmon did not create "
                    "(it has no cfgmon_schema table); pass --db with another file"
                )
            return None
        [(version,)] = con.execute("SELECT max(version) FROM cfgmon_schema").fetchall()
    except duckdb.Error as exc:
        raise damage_error(exc, path) or DatabaseError(
            f"cannot read the schema of {path}: {_first_line(str(exc))}") from None
    return SCHEMA_VERSION if version is None else version


def _check_not_newer(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer cfgmon (schema version {version}; this one knows "
            f"up to {SCHEMA_VERSION}): upgrade cfgmon"
        )


def _ensure_schema(con, path: Path) -> None:
    """Create the schema in a new database, or migrate an older one, in one transaction.

    schema.sql runs on every writing open: it only creates what is missing.
    """
    version = _stored_version(con, path)
    if version is not None:
        _check_not_newer(version, path)
    steps = [m for m in MIGRATIONS if version is not None and m.version > version]
    con.execute("BEGIN TRANSACTION")
    try:
        for step in steps:
            for statement in step.statements:
                con.execute(statement)
        con.execute(schema_sql())
        if version != SCHEMA_VERSION:
            con.execute("INSERT INTO cfgmon_schema VALUES (?, ?)", [SCHEMA_VERSION, utc_now()])
        con.execute("COMMIT")
    except BaseException as exc:
        con.execute("ROLLBACK")
        if not isinstance(exc, duckdb.Error):
            raise
        if version is None:
            raise DatabaseError(f"cannot create the schema in {path}: {_first_line(str(exc))}") from None
        raise DatabaseError(
            f"cannot migrate {path} from schema version {version} to {SCHEMA_VERSION}: "
            f"{_first_line(str(exc))}"
        ) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


@functools.cache
def schema_tables() -> tuple[str, ...]:
    """The tables schema.sql defines, read from the file itself."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name"
        ).fetchall()
    finally:
        con.close()
    return tuple(r[0] for r in rows)
