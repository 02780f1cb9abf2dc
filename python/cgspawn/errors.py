# SPDX-License-Identifier: MIT
"""cgspawn's error kinds as exceptions: every one is a cgspawn.Error, and the kinds are
subclasses (a missing program is also a FileNotFoundError, as subprocess raises)."""


class Error(Exception):
    """A task could not be started, or a recorded task could not be acted on. `kind` names the
    error kind of the library (docs/library.md)."""

    kind = "system"


class InvalidArgument(Error, ValueError):
    kind = "invalid_argument"


class Unsupported(Error):
    kind = "unsupported"


class ProgramNotFound(Error, FileNotFoundError):
    kind = "not_found"


class UnknownTask(Error, LookupError):
    kind = "unknown_task"


class NotExecutable(Error, PermissionError):
    kind = "not_executable"


class SystemFailure(Error, OSError):
    kind = "system"


_BY_STATUS = {1: InvalidArgument, 2: Unsupported, 3: ProgramNotFound, 4: UnknownTask, 5: NotExecutable,
              6: SystemFailure}


def error_for(status, message):
    return _BY_STATUS.get(status, SystemFailure)(message)
