"""A throw-away PostgreSQL server for tests: Debian's binaries, a temp folder, a free port.

    def test_something(postgres_dsn):      # a fresh, empty database for this test
        with psycopg.connect(postgres_dsn) as pg: ...

`postgres_server` (session scope) starts one server for the whole run; each use of
`postgres_dsn` creates a new database on it. Tests that use either are skipped,
saying why, only when PostgreSQL's binaries are not installed
(`apt-get install postgresql`; .ci/run installs it).

initdb and postgres refuse to run as root, so as root the server runs as the
`postgres` user (or `nobody`) through setpriv, in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "cfgmon"


def find_postgres_bin() -> Path | None:
    """The newest PostgreSQL bin folder that has initdb, pg_ctl and postgres."""
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: _version_key(p.parent.name),
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _version_key(text: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    run_as: str | None   # the user the server runs as when we are root

    _databases = itertools.count(1)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = list(args)
        if self.run_as is not None:
            user = pwd.getpwnam(self.run_as)
            command = [
                "setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                "--clear-groups", "--", *command,
            ]
        return subprocess.run(
            command, check=True, capture_output=True, text=True, cwd=self.root, **kwargs
        )

    def start(self) -> None:
        self.socket_dir.mkdir()
        if self.run_as is not None:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"), "start", "-D", str(self.data_dir), "-w",
            "-t", "60", "-l", str(self.root / "server.log"), "-o", options,
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir),
                      "-m", "immediate", "-w")

    def create_database(self) -> str:
        """A new empty database; its DSN."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._databases)}"
        with psycopg.connect(self.dsn(), autocommit=True) as pg:
            pg.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.dsn(name)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_postgres() -> PostgresServer:
    """Start a server in a new temp folder; the caller stops it. pytest.skip without binaries."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install -e '.[dev]')")
    run_as = None
    if os.geteuid() == 0:
        run_as = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
        if run_as is None:
            pytest.skip("running as root and no unprivileged user to run PostgreSQL as")
    # Not under pytest's tmp folder: it is private to root, and the server user must reach it.
    root = Path(tempfile.mkdtemp(prefix="cfgmon-pg-"))
    if run_as is not None:
        user = pwd.getpwnam(run_as)
        os.chown(root, user.pw_uid, user.pw_gid)
    last_error = None
    for _attempt in range(3):  # another process may take the free port before we bind it
        server = PostgresServer(bin_dir, root, _free_port(), run_as)
        try:
            server.start()
            return server
        except subprocess.CalledProcessError as exc:
            last_error = f"{exc.stderr.strip()}\n{server.log()}"
            server.stop()
            for child in root.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_server():
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def postgres_dsn(postgres_server) -> str:
    """The DSN of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()
