"""The errors a user can cause. The CLI maps every CfgmonError to one line and exit code 2."""


class CfgmonError(Exception):
    """A problem the user can fix: bad input, a missing database, a locked file."""


class UsageError(CfgmonError):
    """Options or arguments that cannot work together or name nothing that exists."""


class DatabaseError(CfgmonError):
    """The database cannot be opened, is in use, damaged or has no inventory yet."""


class DatabaseInUse(DatabaseError):
    """Another process has the database file open; `holder` says who, as DuckDB told us."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder  # " (PID 4242, read-only)", or less when DuckDB says less


class QueryError(CfgmonError):
    """A SQL query that cannot run: bad syntax, unknown table, a write in a read-only session."""


class ControlError(CfgmonError):
    """An unknown control or version, or a control whose files are malformed."""


class Interrupted(BaseException):
    """A signal (SIGINT, SIGTERM) asked cfgmon to stop; work already committed stays.

    A BaseException, like KeyboardInterrupt, so that `except Exception` does not
    swallow it; the CLI turns it into exit code 128 + the signal number.
    """

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.signum = signum
        self.name = name
