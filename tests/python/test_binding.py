# SPDX-License-Identifier: MIT
"""The Python package against the real library: real processes in real cgroups, a ledger of
each test's own that must be empty afterwards. Run by tests/python/run-python-suite.sh in a venv
of Debian's python3 where the package was installed offline."""
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import cgspawn


def alive(marker):
    """Live (not zombie) processes whose command line contains `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(pid))
    return found


def eventually(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class WithLedger(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cgspawn-test-py-")
        self.state = os.path.join(self.tmp, "ledger")
        os.mkdir(self.state, 0o700)
        self.marker = f"{7000 + os.getpid() % 1000}.{int(time.time() * 1000) % 100000}"

    def tearDown(self):
        for pid in alive(f"sleep {self.marker}"):
            os.kill(pid, signal.SIGKILL)
        # Dot files are the watchers' and the lineage server's, gone when they end, and the
        # ledger's index (.index), which stays.
        leftover = [e for e in os.listdir(self.state) if e != "parents" and not e.startswith(".")]
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(leftover, [], "records left in the ledger")

    def sleeper(self):
        return f"sleep {self.marker}"


class TestRun(WithLedger):
    def test_exit_code_leftovers_and_report(self):
        # The shell ends only once its child is `sleep`: before its exec the child is a forked `sh`.
        body = f"{self.sleeper()} & while [ \"$(cat /proc/$!/comm)\" != sleep ]; do :; done; exit 7"
        result = cgspawn.run(["/bin/sh", "-c", body], state_dir=self.state, grace=1)
        self.assertEqual(result.exit_code, 7)
        self.assertEqual(result.returncode, 7)
        self.assertEqual(result.reason, "exited")
        self.assertTrue(result.complete)
        self.assertEqual([comm for _, comm in result.leftovers()], ["sleep"])
        self.assertEqual(result.json["schema"], 1)
        self.assertEqual(alive(self.sleeper()), [])

    def test_timeout(self):
        result = cgspawn.run(["/bin/sh", "-c", f"trap '' TERM; {self.sleeper()}"], timeout=0.5, grace=0.3,
                             state_dir=self.state)
        self.assertEqual(result.reason, "timed-out")
        self.assertTrue(result.complete)
        self.assertEqual(alive(self.sleeper()), [])
        # What it was doing when destroyed, and the CLI's text of it (docs/cli.md, "hang").
        self.assertIsNotNone(result.hang)
        self.assertTrue(result.hang["frozen"])
        self.assertEqual(sorted(p["comm"] for p in result.hang["processes"]), ["sh", "sleep"])
        self.assertIn("what it was doing (frozen, 2 process(es)", result.describe())
        quiet = cgspawn.run(["sleep", "10"], timeout=0.3, grace=0.1, hang_report=False, state_dir=self.state)
        self.assertIsNone(quiet.hang)

    def test_env_cwd_labels_stdout(self):
        with tempfile.TemporaryFile() as out:
            result = cgspawn.run(["/bin/sh", "-c", 'echo "$GREETING $(pwd)"'], env={"GREETING": "hi"}, cwd="/tmp",
                                 stdout=out, labels={"suite": "py"}, state_dir=self.state)
            out.seek(0)
            self.assertEqual(out.read(), b"hi /tmp\n")
        self.assertEqual(result.labels, {"suite": "py"})

    def test_errors_are_exceptions_of_their_kind(self):
        with self.assertRaises(cgspawn.ProgramNotFound) as e:
            cgspawn.run(["/no/such/program"], state_dir=self.state)
        self.assertIsInstance(e.exception, FileNotFoundError)
        self.assertIn("/no/such/program", str(e.exception))
        with self.assertRaises(cgspawn.InvalidArgument):
            cgspawn.run(["true"], backend="nope", state_dir=self.state)
        with self.assertRaises(cgspawn.InvalidArgument):
            cgspawn.run("a shell string", state_dir=self.state)
        with self.assertRaises(cgspawn.UnknownTask):
            cgspawn.destroy("no-such-task", state_dir=self.state)

    def test_scratch_and_private_tmp(self):
        root = os.path.join(self.tmp, "scratch")
        with tempfile.TemporaryFile() as out:
            result = cgspawn.run(["/bin/sh", "-c", 'touch "$CGSPAWN_SCRATCH/f" && echo "$TMPDIR" && ls -A /dev/shm'],
                                 scratch=True, scratch_root=root, private_tmp=True, id="pyscratch", stdout=out,
                                 state_dir=self.state)
            out.seek(0)
            self.assertEqual(out.read().decode(), os.path.join(root, "pyscratch") + "\n")
        rows = [r for r in result.json["cleanup"]["resources"] if r["kind"] == "directory"]
        self.assertEqual([(r["id"], r["outcome"]) for r in rows], [(os.path.join(root, "pyscratch"), "destroyed")])
        self.assertTrue(result.complete)
        self.assertFalse(os.path.exists(os.path.join(root, "pyscratch")))

    def test_a_result_of_another_schema_is_refused(self):
        with self.assertRaises(cgspawn.Error):
            cgspawn.Result({"schema": 2})


class TestAsyncio(WithLedger):
    def test_wait_never_blocks_the_event_loop(self):
        async def main():
            tasks = [cgspawn.spawn(["/bin/sh", "-c", f"sleep 0.5; {self.sleeper()} & exit {i}"], grace=0.5,
                                   state_dir=self.state) for i in range(3)]
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.05)

            t = asyncio.ensure_future(ticker())
            results = await asyncio.gather(*(task.wait() for task in tasks))
            t.cancel()
            for task in tasks:
                task.close()
            return results, ticks

        results, ticks = asyncio.run(main())
        self.assertEqual(sorted(r.exit_code for r in results), [0, 1, 2])
        self.assertGreater(ticks, 5)  # the loop ran while the tasks did
        self.assertTrue(all(r.complete for r in results))
        self.assertEqual(alive(self.sleeper()), [])

    def test_destroy_async(self):
        async def main():
            task = cgspawn.spawn([*self.sleeper().split()], state_dir=self.state)
            self.assertIsNone(task.poll())
            result = await task.destroy_async(grace=0.2)
            task.close()
            return result

        result = asyncio.run(main())
        self.assertEqual(result.reason, "destroyed")
        self.assertEqual(result.signal, signal.SIGTERM)


class TestTaskHandle(WithLedger):
    def test_context_manager_and_close_destroy(self):
        with cgspawn.spawn([*self.sleeper().split()], state_dir=self.state) as task:
            self.assertTrue(eventually(lambda: alive(self.sleeper())))
        self.assertEqual(alive(self.sleeper()), [])
        task = cgspawn.spawn([*self.sleeper().split()], state_dir=self.state)
        task.close()  # never destroyed: destroyed now
        self.assertEqual(alive(self.sleeper()), [])

    def test_second_destroy_returns_the_first_result(self):
        task = cgspawn.spawn([*self.sleeper().split()], state_dir=self.state)
        first = task.destroy(grace=0.1)
        self.assertIs(task.destroy(grace=5), first)
        task.close()


class TestRecordedTasks(WithLedger):
    def test_start_destroy_by_id_and_labels_reap(self):
        first = cgspawn.start([*self.sleeper().split()], labels={"batch": "x"}, state_dir=self.state)
        cgspawn.start([*self.sleeper().split()], labels={"batch": "x"}, state_dir=self.state)
        self.assertTrue(eventually(lambda: len(alive(self.sleeper())) == 2))
        report = cgspawn.destroy(first, grace=0.2, state_dir=self.state)
        self.assertTrue(report["cleanup"]["complete"])
        report = cgspawn.destroy_labeled({"batch": "x"}, grace=0.2, state_dir=self.state)
        self.assertEqual(len(report["tasks"]), 1)
        self.assertTrue(report["complete"])
        self.assertEqual(cgspawn.reap(state_dir=self.state)["tasks"], [])
        self.assertEqual(alive(self.sleeper()), [])

    def test_capabilities(self):
        caps = cgspawn.capabilities("process")
        self.assertEqual(caps["backend"], "process")
        self.assertIn("available", caps["kill_all"])


class TestBoundToOwner(WithLedger):
    def test_a_task_bound_to_its_owner_dies_with_it_within_5_s(self):
        owner = subprocess.Popen([sys.executable, "-c", (
            "import cgspawn, sys, time\n"
            f"task = cgspawn.spawn(['/bin/sh', '-c', \"trap '' TERM; {self.sleeper()}\"], bind_owner=True,"
            f" state_dir={self.state!r})\n"
            "print('spawned', flush=True)\n"
            "time.sleep(1000)\n")], stdout=subprocess.PIPE)
        self.assertEqual(owner.stdout.readline().strip(), b"spawned")
        self.assertTrue(eventually(lambda: alive(self.sleeper())))
        owner.kill()
        owner.wait()
        owner.stdout.close()
        killed = time.monotonic()
        self.assertTrue(eventually(lambda: not alive(self.sleeper()), 5.0))
        self.assertLess(time.monotonic() - killed, 5.0)
        # Nothing but the ledger's own files: the watcher's dot files are gone too.
        self.assertTrue(eventually(lambda: [e for e in os.listdir(self.state) if e not in ("parents", ".index")] == [], 5.0))


if __name__ == "__main__":
    unittest.main()
