# SPDX-License-Identifier: MIT
"""The Result of a task and its CleanupReport, read from the library's JSON (schema 1:
docs/cli.md documents every field; fields added later do not change the schema)."""
import json

from . import _abi
from .errors import Error

SCHEMA = 1


class Row:
    """One Resource of the CleanupReport and what became of it."""

    def __init__(self, data):
        self.json = data
        self.kind = data["kind"]
        self.id = data["id"]
        self.outcome = data["outcome"]
        self.detail = data.get("detail", "")
        self.seconds = data.get("seconds", 0.0)
        self.killed = [(p["pid"], p["comm"]) for p in data.get("killed", [])]
        self.killed_total = data.get("killed_total", len(self.killed))
        self.survivors = [(p["pid"], p["comm"]) for p in data.get("survivors", [])]

    @property
    def gone(self):
        """Destroyed, already gone, or kept on request: nothing of it is left unaccounted for."""
        return self.outcome in ("destroyed", "already-gone", "kept")

    def __repr__(self):
        return f"<Row {self.kind} {self.id}: {self.outcome}>"


class CleanupReport:
    def __init__(self, data):
        self.json = data
        self.rows = [Row(r) for r in data.get("resources", [])]

    @property
    def complete(self):
        return all(row.gone for row in self.rows)

    def __iter__(self):
        return iter(self.rows)


class Result:
    """How a task ended, what it used, and its CleanupReport."""

    def __init__(self, data):
        if data.get("schema") != SCHEMA:
            raise Error(f"cgspawn: a Result of schema {data.get('schema')!r}; this package reads schema {SCHEMA}")
        self.json = data
        self.id = data["id"]
        self.backend = data["backend"]
        self.argv = data["argv"]
        self.labels = data.get("labels", {})
        exit_ = data["exit"]
        self.exit_code = exit_.get("code")
        self.signal = exit_.get("signal")
        self.reason = exit_["reason"]  # exited, signaled, timed-out, destroyed
        # exited, signal, timeout, destroyed, oom-limit, oom-host, owner-gone (docs/cli.md)
        self.cause = exit_.get("cause", "")
        self.usage = data.get("usage", {})
        # What its processes were doing when cgspawn destroyed it while it ran (docs/cli.md,
        # "hang"); None when it had ended by itself, or with hang_report=False.
        self.hang = data.get("hang")
        self.main_pid = data.get("main_pid")
        self.cleanup = CleanupReport(data["cleanup"])

    @property
    def complete(self):
        return self.cleanup.complete

    @property
    def returncode(self):
        """As subprocess has it: the exit code, or minus the signal that ended the main program."""
        if self.exit_code is not None:
            return self.exit_code
        if self.signal is not None:
            return -self.signal
        return None

    def describe(self):
        """The CLI's text summary: the exit, the hang report's process tree, the cleanup."""
        return _abi.call(_abi.lib.cgspawn_describe_result, _abi.encode(json.dumps(self.json)))

    def leftovers(self):
        """The processes destroy had to kill, besides the main program: (pid, comm) pairs."""
        return [p for row in self.cleanup for p in row.killed if p[0] != self.main_pid]

    def __repr__(self):
        return f"<Result {self.id} ({self.backend}) {self.cause or self.reason} code={self.exit_code} signal={self.signal} " \
               f"complete={self.complete}>"
