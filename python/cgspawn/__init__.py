# SPDX-License-Identifier: MIT
"""cgspawn: run tasks in cgroups of their own, destroy them, and prove it.

    import cgspawn
    result = cgspawn.run(["make", "check"], timeout=600)     # blocks; returns a Result
    task = cgspawn.spawn(["./server"], labels={"job": "42"})  # a Task
    result = await task.wait()                               # from asyncio
    result = task.destroy(grace=2)

Everything goes through libcgspawn's C ABI (docs/python.md)."""
import json

from . import _abi
from .errors import (Error, InvalidArgument, NotExecutable, ProgramNotFound, SystemFailure, UnknownTask,
                     Unsupported)
from .result import CleanupReport, Result, Row
from .task import Task

__all__ = ["Error", "InvalidArgument", "Unsupported", "ProgramNotFound", "UnknownTask", "NotExecutable",
           "SystemFailure", "Result", "CleanupReport", "Row", "Task", "spawn", "run", "start", "destroy",
           "destroy_labeled", "reap", "capabilities", "version", "request"]

DEFAULT_GRACE = 5.0


def version():
    """The library's version."""
    return _abi.lib.cgspawn_version().decode()


def _fd(stream):
    if stream is None:
        return -1
    return stream if isinstance(stream, int) else stream.fileno()


def _env_list(env):
    if env is None:
        return []
    if isinstance(env, dict):
        return [f"{k}={v}" for k, v in env.items()]
    return list(env)


def request(argv, *, env=None, inherit_env=True, cwd=None, stdin=None, stdout=None, stderr=None,
            timeout=None, grace=DEFAULT_GRACE, labels=None, id=None, memory_max=None, pids_max=None,
            cpu_max=None, bind_owner=False, state_dir=None, scratch=False, keep_scratch=False,
            scratch_root=None, private_tmp=False, private_ipc=False, hang_report=True, backend="process",
            **backend_options):
    """The task request (the C ABI's JSON) for these arguments; spawn() and start() take the
    same. `scratch`, `keep_scratch`, `scratch_root`, `private_tmp`, `private_ipc`: as the CLI's
    --scratch ... --private-ipc (docs/cli.md); `hang_report=False`: as --no-hang-report. `backend_options`: parent, user_manager,
    unit_type, image, rootfs, keep_container, host, ssh_config, lease (seconds, or None for none)."""
    if isinstance(argv, (str, bytes)):
        raise InvalidArgument("argv is a list of words, never a shell string")
    req = {"argv": [str(a) for a in argv], "env": _env_list(env), "inherit_env": bool(inherit_env),
           "cwd": cwd or "", "stdin_fd": _fd(stdin), "stdout_fd": _fd(stdout), "stderr_fd": _fd(stderr),
           "timeout": timeout, "grace": grace, "labels": dict(labels or {}), "id": id or "",
           "limits": {"memory_max": memory_max, "pids_max": pids_max, "cpu_max": cpu_max},
           "bind_owner": bool(bind_owner), "state_dir": state_dir or "",
           "scratch": bool(scratch), "keep_scratch": bool(keep_scratch), "scratch_root": scratch_root or "",
           "private_tmp": bool(private_tmp), "private_ipc": bool(private_ipc),
           "hang_report": bool(hang_report),
           "backend": dict(name=backend, **backend_options)}
    return req


def spawn(argv, **kwargs):
    """Starts a task in a boundary of its own and returns its Task (see request())."""
    req = request(argv, **kwargs)
    handle = _abi.spawn(req)
    return Task(handle, req["grace"], req["timeout"])


def run(argv, **kwargs):
    """Runs a task to its end (its timeout honoured), destroys what it left, returns the Result."""
    with spawn(argv, **kwargs) as task:
        return task.wait_blocking()


def start(argv, bind_pid=None, **kwargs):
    """Starts a task detached from this process, owned by a supervisor; returns its id.
    `bind_pid`: the task is destroyed when that process dies."""
    req = request(argv, **kwargs)
    if bind_pid:
        req["bind_pid"] = int(bind_pid)
    return _abi.call(_abi.lib.cgspawn_start, _abi.encode(json.dumps(req)))


def destroy(task_id, grace=DEFAULT_GRACE, state_dir=None):
    """Destroys a recorded task by id; its report (JSON form, docs/cli.md)."""
    return _abi.call_json(_abi.lib.cgspawn_destroy, _abi.encode(state_dir or ""), _abi.encode(task_id),
                          float(grace))


def destroy_labeled(labels, grace=DEFAULT_GRACE, state_dir=None):
    """Destroys every recorded task carrying all of `labels`; one report."""
    return _abi.call_json(_abi.lib.cgspawn_destroy_labels, _abi.encode(state_dir or ""),
                          _abi.encode(json.dumps(dict(labels))), float(grace))


def reap(labels=None, orphans=False, grace=DEFAULT_GRACE, state_dir=None):
    """Destroys every recorded task whose owner (or bound process) is gone; the report."""
    return _abi.call_json(_abi.lib.cgspawn_reap, _abi.encode(state_dir or ""),
                          _abi.encode(json.dumps(dict(labels or {}))), int(bool(orphans)), float(grace))


def capabilities(backend="process", **backend_options):
    """What `backend` can guarantee on this host (JSON form of cgspawn backends)."""
    return _abi.call_json(_abi.lib.cgspawn_capabilities,
                          _abi.encode(json.dumps(dict(name=backend, **backend_options))))
