"""Running the cfgmon command line, in-process or as the `cfgmon` script in a process of its own."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from cfgmon.cli import main


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run the cfgmon command line in-process, as the `cfgmon` script would."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_process(*args: str, env: Mapping[str, str] | None = None) -> CliResult:
    """Run `python -m cfgmon.cli` in a process of its own: what a user's shell runs.

    The environment is this process's (which the `aws` fixture points at moto), with
    `env` on top; an empty value removes the variable.
    """
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value:
            environment[name] = value
        else:
            environment.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "cfgmon.cli", *args], env=environment,
                          capture_output=True, text=True, timeout=120)
    return CliResult(done.returncode, done.stdout, done.stderr)
