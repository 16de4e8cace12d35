"""Errors a user can fix. Their message is one line naming the problem."""

import signal


class SweepError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 2."""


class ConfigError(SweepError, ValueError):
    """Invalid sweep input: ``field: problem``."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def require(field: str, ok: bool, problem: str) -> None:
    """ConfigError(``field``, ``problem``) unless ``ok``."""
    if not ok:
        raise ConfigError(field, problem)


class Interrupted(SweepError):
    """A run was stopped (Ctrl-C, SIGTERM or SIGHUP: ``signum``); what finished is stored."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C raises KeyboardInterrupt: the same
    orderly stop; ``signum`` is the signal's number."""

    def __init__(self, signum: int = 15):
        super().__init__(signum)
        self.signum = signum
