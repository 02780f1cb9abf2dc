# SPDX-License-Identifier: MIT
"""The Avocado spawner plugin: `avocado run --spawner cgspawn` runs every task in a cgspawn
boundary, destroys whatever it leaves behind, verifies that, and says so (docs/avocado.md).

Avocado has no hook for a task that ends by itself, so the cleanup of a task that ended runs
when Avocado next asks about it (is_task_alive, wait_task): the task counts as alive until its
leftovers are destroyed and verified gone. Every task is bound to this Avocado process: if it
is killed, even by SIGKILL, cgspawn's watcher destroys the tasks within seconds."""
import asyncio
import functools
import json
import logging
import os
import time

from avocado.core.exit_codes import AVOCADO_JOB_FAIL
from avocado.core.plugin_interfaces import Init, JobPost, JobPre
from avocado.core.settings import settings
from avocado.core.spawners.common import SpawnCapabilities, SpawnMethod
from avocado.core.task.runtime import RuntimeTaskStatus
from avocado.core.utils.eggenv import get_python_path_env_if_egg
from avocado.plugins.spawners.process import ProcessSpawner

LOG_JOB = logging.getLogger("avocado.job")
LOG_UI = logging.getLogger("avocado.app")

SECTION = "spawner.cgspawn"
# Backends whose tasks run Avocado's runner here, sharing this host's filesystem and network.
LOCAL_BACKENDS = ("process", "systemd")
RESULT_FILE = "cgspawn-result.json"
# What a task's processes were doing when it was destroyed while it ran (a timeout, an
# interrupted job): the Result's "hang" as the CLI prints it, a process tree with kernel waits.
HANG_FILE = "cgspawn-hang.txt"

# Per job (its unique id): what the summary at the end of the job says.
_STATS = {}


def _cgspawn():
    """The cgspawn package, loaded when first needed: a plugin that failed to import would only
    leave Avocado with "KeyError", not the reason (a library that cannot be loaded)."""
    import cgspawn  # pylint: disable=import-outside-toplevel
    return cgspawn


class CgspawnInit(Init):
    description = "cgspawn spawner: its settings"

    def initialize(self):
        options = [
            ("backend", "process", "cgspawn backend: process or systemd (podman, remote: see docs/avocado.md)"),
            ("state_dir", "", "cgspawn's ledger directory (empty: its default)"),
            ("grace", 5.0, "seconds between SIGTERM and SIGKILL when a task is terminated"),
            ("leftover_grace", 1.0, "seconds leftovers of a task that ended get between SIGTERM and SIGKILL"),
            ("unit_type", "scope", "systemd backend: scope or service"),
            ("user_manager", False, "systemd backend: the user's manager instead of the system's"),
            ("parent", "", "process backend: the cgroup2 directory task cgroups go under"),
            ("memory_max", "", "memory limit of each task (bytes, or 512M, 2G)"),
            ("pids_max", "", "process limit of each task"),
            ("cpu_max", "", "CPU limit of each task, percent of one CPU"),
        ]
        for key, default, help_msg in options:
            settings.register_option(section=SECTION, key=key, default=default, help_msg=help_msg,
                                     key_type=type(default))


def _size(text):
    """512M, 2G, 100K or plain bytes, as cgspawn's --memory-max (powers of 1024)."""
    text = str(text).strip()
    if not text:
        return None
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if text[-1].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


def _number(text):
    text = str(text).strip().rstrip("%")
    return int(text) if text else None


class _Handle:
    """One task: the cgspawn Task, and the cleanup that makes it count as ended."""

    def __init__(self, spawner, runtime_task, task):
        self.spawner = spawner
        self.runtime_task = runtime_task
        self.task = task
        self.cleanup = None  # the future of the destroy, once it is started

    def ended(self):
        return self.task.result is not None or self.task.poll() is not None

    def finish(self, reason_timed_out=False, grace=None):
        """Starts the destroy (once) in the loop's executor; returns its future."""
        if self.cleanup is None:
            loop = asyncio.get_event_loop()
            self.cleanup = loop.run_in_executor(None, self._destroy, reason_timed_out, grace)
        return self.cleanup

    def _destroy(self, reason_timed_out, grace):
        if grace is None:
            grace = self.spawner.setting("leftover_grace")
        begun = time.monotonic()
        result = self.task.destroy(grace=float(grace), timed_out=reason_timed_out)
        LOG_JOB.debug('cgspawn: task "%s": destroyed and verified in %.1f ms', self.runtime_task.task.identifier,
                      1000 * (time.monotonic() - begun))
        self.spawner.report(self.runtime_task, result)
        return result


class CgspawnSpawner(ProcessSpawner):
    """Runs each task as the process spawner does, but in a cgspawn boundary: what the task
    leaves is destroyed, verified gone, and named."""

    description = "cgspawn: every task in a cgroup of its own, destroyed and verified"
    METHODS = [SpawnMethod.STANDALONE_EXECUTABLE]
    CAPABILITIES = [
        SpawnCapabilities.AUTOMATIC_ENVIRONMENT_PROVISIONING,
        SpawnCapabilities.AVOCADO_DEPLOYMENT,
        SpawnCapabilities.FILESYSTEM_SHARING,
    ]

    def setting(self, key):
        return self.config.get(f"{SECTION}.{key}")

    def _backend_options(self):
        backend = self.setting("backend") or "process"
        options = {}
        if backend == "systemd":
            options["unit_type"] = self.setting("unit_type") or "scope"
            options["user_manager"] = bool(self.setting("user_manager"))
        if backend == "process" and self.setting("parent"):
            options["parent"] = self.setting("parent")
        return backend, options

    def is_operational(self):
        backend, options = self._backend_options()
        if backend not in LOCAL_BACKENDS:
            LOG_UI.error("cgspawn: the %s backend is not supported by the Avocado plugin yet (docs/avocado.md)",
                         backend)
            return False
        try:
            caps = _cgspawn().capabilities(backend, **options)
        except ImportError as e:
            LOG_UI.error("%s", e)
            return False
        if not caps["usable"]["available"]:
            LOG_UI.error("cgspawn: the %s backend cannot run here: %s", backend, caps["usable"]["reason"])
            return False
        # A limit that cannot be enforced refuses the job, not each test (Avocado would skip them
        # one by one, and the job would pass without having run any).
        for key in ("memory_max", "pids_max", "cpu_max"):
            limit = caps["limits"].get(key, {"available": False, "reason": "unknown to this library"})
            if str(self.setting(key)).strip() and not limit["available"]:
                LOG_UI.error("cgspawn: %s is set, and the %s backend cannot enforce it here: %s", key, backend,
                             limit["reason"])
                return False
        return True

    def _job_id(self):
        return getattr(self._job, "unique_id", "") or ""

    def _stats(self):
        return _STATS.setdefault(self._job_id(), {"tasks": 0, "leftovers": 0, "not_guaranteed": 0, "failed": 0})

    async def spawn_task(self, runtime_task):
        self.create_task_output_dir(runtime_task)
        task = runtime_task.task
        runner = task.runnable.runner_command()
        argv = runner + ["task-run"] + task.get_command_args()
        env = get_python_path_env_if_egg()
        backend, options = self._backend_options()
        if backend not in LOCAL_BACKENDS:
            LOG_JOB.error('cgspawn: task "%s": the %s backend is not supported by the Avocado plugin yet',
                          task.identifier, backend)
            return False
        devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        cgspawn = _cgspawn()
        spawn = functools.partial(
            cgspawn.spawn, argv, env=env, inherit_env=env is None, stdin=devnull, stdout=devnull, stderr=devnull,
            grace=float(self.setting("grace")), labels={"avocado-task": str(task.identifier),
                                                        "avocado-job": self._job_id()},
            memory_max=_size(self.setting("memory_max")), pids_max=_number(self.setting("pids_max")),
            cpu_max=_number(self.setting("cpu_max")), bind_owner=True,
            state_dir=self.setting("state_dir") or None, backend=backend, **options)
        begun = time.monotonic()
        try:
            # Off the event loop: the other tasks' status messages go on meanwhile.
            spawned = await asyncio.get_event_loop().run_in_executor(None, spawn)
        except cgspawn.Error as e:
            LOG_JOB.error('cgspawn: task "%s" (%s): cannot start: %s', task.identifier, backend, e)
            LOG_UI.error('cgspawn: task "%s" (%s): cannot start: %s', task.identifier, backend, e)
            return False
        finally:
            os.close(devnull)
        LOG_JOB.debug('cgspawn: task "%s" (%s): spawned in %.1f ms', task.identifier, backend,
                      1000 * (time.monotonic() - begun))
        self._stats()["tasks"] += 1
        runtime_task.spawner_handle = _Handle(self, runtime_task, spawned)
        return True

    @staticmethod
    def is_task_alive(runtime_task):
        handle = runtime_task.spawner_handle
        if handle is None:
            return False
        if handle.cleanup is not None:
            return not handle.cleanup.done()
        if not handle.ended():
            return True
        handle.finish()  # it ended: destroy its leftovers; it counts as alive until that is done
        return True

    @staticmethod
    async def wait_task(runtime_task):  # pylint: disable=W0221
        handle = runtime_task.spawner_handle
        if handle.cleanup is None:
            await handle.task.ended()
        await handle.finish()

    async def terminate_task(self, runtime_task):
        handle = runtime_task.spawner_handle
        if handle is None:
            return True
        timed_out = runtime_task.status == RuntimeTaskStatus.TIMEOUT
        grace = self.config.get("runner.task.interval.from_soft_to_hard_termination")
        result = await handle.finish(reason_timed_out=timed_out, grace=grace)
        return result.complete

    @staticmethod
    def _write_hang_report(task_id, result, path):
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(result.describe())
            LOG_JOB.info('cgspawn: task "%s": what it was doing when destroyed: %s', task_id, path)
        except (OSError, _cgspawn().Error) as e:
            LOG_JOB.error('cgspawn: task "%s": cannot write %s: %s', task_id, path, e)

    def report(self, runtime_task, result):
        """What a task left: a line in job.log and on the console, its Result in its result
        directory; an incomplete cleanup is an error that fails the job."""
        task_id = runtime_task.task.identifier
        stats = self._stats()
        output_dir = self.task_output_dir(runtime_task)
        try:
            with open(os.path.join(output_dir, RESULT_FILE), "w", encoding="utf-8") as f:
                json.dump(result.json, f, indent=2)
        except OSError as e:
            LOG_JOB.error('cgspawn: task "%s": cannot write %s: %s', task_id, RESULT_FILE, e)
        if result.hang is not None:
            self._write_hang_report(task_id, result, os.path.join(output_dir, HANG_FILE))
        # Why it ended (docs/cli.md, exit.cause): a timeout, an OOM kill by its own limit or the
        # host's, a signal from outside...; its Result (with the cause) is in the result directory.
        LOG_JOB.info('cgspawn: task "%s" (%s): exit cause %s (%s)', task_id, result.backend, result.cause,
                     f"exit code {result.exit_code}" if result.exit_code is not None else f"signal {result.signal}")
        leftovers = result.leftovers()
        if leftovers:
            stats["leftovers"] += len(leftovers)
            names = ", ".join(f"{comm}[{pid}]" for pid, comm in leftovers)
            line = (f'cgspawn: task "{task_id}" ({result.backend}): destroyed {len(leftovers)} leftover '
                    f'process(es): {names}')
            LOG_JOB.info(line)
            LOG_UI.warning(line)
        for row in result.cleanup:
            if row.outcome == "not-guaranteed":
                stats["not_guaranteed"] += 1
            if row.gone:
                continue
            stats["failed"] += 1
            line = f'cgspawn: task "{task_id}" ({result.backend}): failed to destroy {row.kind} {row.id}: {row.detail}'
            LOG_JOB.error(line)
            LOG_UI.error(line)
        if not result.complete and self._job is not None:
            self._job.exitcode |= AVOCADO_JOB_FAIL


class CgspawnJobSummary(JobPre, JobPost):
    """One line at the end of a job that used the cgspawn spawner."""

    name = "cgspawn"
    description = "cgspawn spawner: a summary at the end of the job"

    def pre(self, job):
        pass

    def post(self, job):
        stats = _STATS.pop(getattr(job, "unique_id", ""), None)
        if stats is None:
            return
        line = (f"cgspawn: {stats['tasks']} task(s) run, {stats['leftovers']} leftover process(es) destroyed, "
                f"{stats['not_guaranteed']} resource(s) not guaranteed, {stats['failed']} failed")
        LOG_JOB.info(line)
        LOG_UI.info(line)
