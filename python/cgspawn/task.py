# SPDX-License-Identifier: MIT
"""A running task: its handle in the library, usable from blocking code and from asyncio."""
import asyncio
import time

from . import _abi
from .result import Result


class Task:
    """A task started by cgspawn.spawn(). It is destroyed when it is closed (or garbage
    collected) before it was waited for or destroyed: nothing it started outlives it."""

    def __init__(self, handle, grace, timeout):
        self._handle = handle
        self._grace = grace
        self._deadline = time.monotonic() + timeout if timeout else None
        self._result = None
        self.id = _abi.lib.cgspawn_task_id(handle).decode()

    def fileno(self):
        """Readable once the main program has ended (for select, poll, or an event loop)."""
        return _abi.lib.cgspawn_task_poll_fd(self._handle)

    @property
    def result(self):
        """The Result once the task was waited for or destroyed, else None."""
        return self._result

    def poll(self):
        """The main program's exit ({"code", "signal", "reason"}) once it has ended; None while
        it runs. Never blocks."""
        self._check_open()
        return _abi.try_wait(self._handle)

    def wait_blocking(self):
        """Blocks until the main program ends (or the task's timeout fires), destroys what is
        left with the task's grace, and returns the Result."""
        if self._result is None:
            self._check_open()
            self._result = Result(_abi.call_json(_abi.lib.cgspawn_task_wait, self._handle))
        return self._result

    async def ended(self, timeout=None):
        """Waits, without blocking the event loop, until the main program has ended (True) or
        `timeout` seconds have passed (False). Destroys nothing."""
        if self._result is not None:
            return True
        self._check_open()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        fd = self.fileno()
        loop.add_reader(fd, lambda: done.done() or done.set_result(None))
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)

    async def wait(self):
        """As wait_blocking(), without blocking the event loop: the end is awaited on the
        task's fd, and the destroy runs in the loop's executor."""
        if self._result is not None:
            return self._result
        timeout = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
        timed_out = not await self.ended(timeout)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.destroy, None, timed_out)

    def destroy(self, grace=None, timed_out=False):
        """Destroys the task now (SIGTERM, `grace` seconds, SIGKILL, verify) and returns the
        Result; a main program still running is marked timed-out with `timed_out`, else
        destroyed. Never raises for a failed cleanup: the Result's cleanup says what is left."""
        reason = _abi.REASON_TIMED_OUT if timed_out else _abi.REASON_DESTROYED
        return self._finish(self._grace if grace is None else grace, reason)

    async def destroy_async(self, grace=None, timed_out=False):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.destroy, grace, timed_out)

    def close(self):
        """Releases the handle; a task never waited for or destroyed is destroyed first."""
        handle, self._handle = self._handle, None
        if handle:
            _abi.lib.cgspawn_task_free(handle)

    def _finish(self, grace, reason):
        if self._result is None:
            self._check_open()
            data = _abi.call_json(_abi.lib.cgspawn_task_destroy, self._handle, float(grace), reason)
            self._result = Result(data)
        return self._result

    def _check_open(self):
        if not self._handle:
            raise ValueError(f"task {self.id} is closed")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._result is None and self._handle:
            self.destroy()
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pylint: disable=broad-except
            pass

    def __repr__(self):
        return f"<cgspawn.Task {self.id}>"
