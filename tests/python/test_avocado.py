# SPDX-License-Identifier: MIT
"""Avocado 113.0 with `--spawner cgspawn`, for real: the leaking test bodies Avocado users
have, run by `avocado run`, and afterwards no process of theirs alive, the Avocado result as
the process spawner gives it, the job.log line, each test's cgspawn-result.json, and an empty
ledger. The same bodies under `--spawner process` are the control: what it leaks is printed.
Also: a backend the plugin does not support, and a limit the host cannot enforce, refuse the
job before any test runs; where it can, the limit is read back from the task's cgroup.

    python test_avocado.py [--backend process|systemd] [--only NAME,...] [--control]

Needs $CGSPAWN_VENV (Avocado and this package installed), $CGSPAWN_LIBRARY and
$CGSPAWN_SUPERVISOR (the library under test)."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

from test_binding import alive, eventually

VENV = os.environ["CGSPAWN_VENV"]
AVOCADO = os.path.join(VENV, "bin", "avocado")
LEFTOVER_LINE = re.compile(r'cgspawn: task "([^"]+)" \((\w+)\): destroyed (\d+) leftover process\(es\): (.*)')
CAUSE_LINE = re.compile(r'cgspawn: task "([^"]+)" \((\w+)\): exit cause ([a-z-]+)')


class Case:
    def __init__(self, name, scripts, statuses, leftovers, timeout=None, expect_complete=True):
        self.name = name
        self.scripts = scripts            # test name -> shell body (MARK: the case's own sleep argument)
        self.statuses = statuses          # test name -> Avocado status
        self.leftovers = leftovers        # test name -> leftover processes the job.log line names (None: no line)
        self.timeout = timeout            # [task.timeout] running
        self.expect_complete = expect_complete


# A background sleep that is `sleep` when the shell goes on: before its exec it is a forked `sh`,
# and a leftover named `sh` would fail the check of the job.log line.
BACKGROUND_SLEEP = "sleep MARK & while [ \"$(cat /proc/$!/comm)\" != sleep ]; do :; done"


def cases():
    return [
        Case("background", {"background": f"{BACKGROUND_SLEEP}; exit 0"}, {"background": "PASS"},
             {"background": 1}),
        Case("setsid", {"setsid": f"setsid --wait sh -c '{BACKGROUND_SLEEP}'; exit 0"}, {"setsid": "PASS"},
             {"setsid": 1}),
        Case("term-ignorer", {"term-ignorer": "trap '' TERM; sleep MARK"}, {"term-ignorer": "INTERRUPTED"},
             {"term-ignorer": None}, timeout=3),
        Case("fifty", {"fifty": "for i in $(seq 50); do sleep MARK & done; wait"}, {"fifty": "INTERRUPTED"},
             {"fifty": None}, timeout=3),
    ]


def parallel_case(name="parallel", of=None):
    together = Case(name, {}, {}, {}, timeout=3)
    for c in cases():
        if of and c.name not in of:
            continue
        together.scripts.update(c.scripts)
        together.statuses.update(c.statuses)
        together.leftovers.update(c.leftovers)
    return together


class Job:
    """One `avocado run` in a directory of its own, with a ledger of its own."""

    def __init__(self, case, spawner, backend, extra_args=(), extra_config=""):
        self.case = case
        self.dir = tempfile.mkdtemp(prefix=f"cgspawn-test-avocado-{case.name}-")
        self.ledger = os.path.join(self.dir, "ledger")
        os.mkdir(self.ledger, 0o700)
        self.mark = f"{8000 + os.getpid() % 1000}.{int(time.time() * 1000) % 100000}"
        self.results = os.path.join(self.dir, "results")
        self.paths = []
        for name, body in case.scripts.items():
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write("#!/bin/sh\n" + body.replace("MARK", self.mark) + "\n")
            os.chmod(path, 0o755)
            self.paths.append(path)
        config = os.path.join(self.dir, "avocado.conf")
        with open(config, "w") as f:
            f.write(f"[spawner.cgspawn]\nstate_dir = {self.ledger}\nbackend = {backend}\n{extra_config}")
            if case.timeout:
                scale = float(os.environ.get("CGSPAWN_CASE_TIMEOUT_SCALE", "1"))
                f.write(f"[task.timeout]\nrunning = {case.timeout * scale:g}\n")
        # Avocado's exec-test runner leaves a .avocado-workdir-* in $TMPDIR for every task that
        # timed out: in the job's own directory, it goes with the job.
        self.env = dict(os.environ, TMPDIR=self.dir)
        self.argv = [AVOCADO, "--config", config, "run", "--spawner", spawner, "--job-results-dir", self.results,
                     "--disable-sysinfo", *extra_args, *self.paths]

    def run(self, timeout=int(os.environ.get("CGSPAWN_CASE_TIMEOUT", "180"))):
        self.proc = subprocess.run(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                                   env=self.env)
        self.output = self.proc.stdout.decode(errors="replace")
        return self

    def start(self):
        self.popen = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        return self

    def job_dir(self):
        return os.path.realpath(os.path.join(self.results, "latest"))

    def job_log(self):
        with open(os.path.join(self.job_dir(), "job.log"), errors="replace") as f:
            return f.read()

    def statuses(self):
        with open(os.path.join(self.job_dir(), "results.json")) as f:
            return {os.path.basename(t["name"].split("-", 1)[1]): t["status"] for t in json.load(f)["tests"]}

    def test_files(self, name, read):
        """`name` in each test's result directory that has one, read by `read` (a file object)."""
        found = {}
        root = os.path.join(self.job_dir(), "test-results")
        for entry in os.listdir(root) if os.path.isdir(root) else []:  # none where no test started
            path = os.path.join(root, entry, name)
            if os.path.exists(path):
                with open(path) as f:
                    found[entry] = read(f)
        return found

    def result_files(self):
        return self.test_files("cgspawn-result.json", json.load)

    def hang_files(self):
        """The plugin's hang reports (cgspawn-hang.txt)."""
        return self.test_files("cgspawn-hang.txt", lambda f: f.read())

    def records(self):
        """Task records: not `parents`, nor the dot files of watchers and of the lineage server."""
        return [e for e in os.listdir(self.ledger) if e != "parents" and not e.startswith(".")]

    def watchers(self):
        """Lock files of watchers of bound processes: gone once the watcher has done its work."""
        return [e for e in os.listdir(self.ledger) if e.startswith(".watch-")]

    def alive(self):
        return alive(f"sleep {self.mark}")

    def cleanup(self):
        for pid in self.alive():
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


class Failures(list):
    def check(self, condition, what):
        if not condition:
            self.append(what)


def check_cgspawn_job(job, failures, complete=True):
    case = job.case
    failures.check(eventually(lambda: job.alive() == [], 5.0), f"{case.name}: alive after the job: {job.alive()}")
    statuses = job.statuses()
    failures.check(statuses == case.statuses, f"{case.name}: statuses {statuses}, expected {case.statuses}")
    log = job.job_log()
    lines = {m.group(1).split("-", 1)[1].rsplit("/", 1)[-1]: m for m in LEFTOVER_LINE.finditer(log)}
    for name, count in case.leftovers.items():
        if count is None:
            continue
        m = lines.get(name)
        failures.check(m is not None, f"{case.name}: no leftover line for {name} in job.log")
        if m:
            failures.check(int(m.group(3)) == count and "sleep[" in m.group(4),
                           f"{case.name}: leftover line for {name}: {m.group(0)}")
    # Why each task ended: by itself when it passed, the task timeout when Avocado interrupted it.
    causes = {m.group(1).split("-", 1)[1].rsplit("/", 1)[-1]: m.group(3) for m in CAUSE_LINE.finditer(log)}
    for name, status in case.statuses.items():
        want = "timeout" if status == "INTERRUPTED" else "exited"
        failures.check(causes.get(name) == want, f"{case.name}: exit cause of {name}: {causes.get(name)}, not {want}")
    results = job.result_files()
    failures.check(len(results) == len(case.scripts), f"{case.name}: cgspawn-result.json in {sorted(results)}")
    # A test Avocado interrupted was destroyed while it ran: its hang report is beside its
    # Result, as a process tree; a test that ended by itself has none.
    hangs = job.hang_files()
    interrupted = sum(1 for s in case.statuses.values() if s == "INTERRUPTED")
    failures.check(sorted(hangs) == sorted(e for e, r in results.items() if "hang" in r),
                   f"{case.name}: cgspawn-hang.txt in {sorted(hangs)}, Results with a hang report: "
                   f"{sorted(e for e, r in results.items() if 'hang' in r)}")
    failures.check(len(hangs) == interrupted, f"{case.name}: {len(hangs)} hang report(s), {interrupted} interrupted")
    for entry, text in hangs.items():
        failures.check("what it was doing (" in text and "waits in " in text,
                       f"{case.name}: {entry}: cgspawn-hang.txt:\n{text}")
    for entry, result in results.items():
        failures.check(result.get("schema") == 1, f"{case.name}: {entry}: schema {result.get('schema')}")
        failures.check(result["cleanup"]["complete"] == complete, f"{case.name}: {entry}: cleanup {result['cleanup']}")
    failures.check("cgspawn: " in job.output and "task(s) run" in job.output,
                   f"{case.name}: no summary line on the console:\n{job.output}")
    failures.check(eventually(lambda: job.records() == [], 5.0), f"{case.name}: ledger not empty: {job.records()}")
    failures.check(eventually(lambda: job.watchers() == [], 5.0), f"{case.name}: watcher left: {job.watchers()}")


def run_case(case, backend, failures):
    job = Job(case, "cgspawn", backend).run()
    try:
        print(f"--- {case.name} ({backend}): exit {job.proc.returncode}")
        check_cgspawn_job(job, failures)
        failures.check(job.proc.returncode in (0, 8), f"{case.name}: avocado exit {job.proc.returncode}\n{job.output}")
    finally:
        job.cleanup()


def run_control(case):
    job = Job(case, "process", "process").run()
    try:
        leaked = job.alive()
        print(f"--- control {case.name} (--spawner process): {len(leaked)} process(es) left running, "
              f"statuses {job.statuses()}")
    finally:
        job.cleanup()


def sigkill_mid_run(backend, failures):
    case = Case("sigkill", {"sigkill": "trap '' TERM; sleep MARK & sleep MARK; wait"}, {}, {})
    job = Job(case, "cgspawn", backend).start()
    try:
        failures.check(eventually(lambda: len(job.alive()) == 2, 60.0), "sigkill: the task did not start")
        job.popen.kill()
        job.popen.wait()
        killed = time.monotonic()
        gone = eventually(lambda: job.alive() == [], 5.0)
        print(f"--- sigkill ({backend}): task gone {time.monotonic() - killed:.2f} s after avocado's SIGKILL")
        failures.check(gone and time.monotonic() - killed <= 5.0, f"sigkill: alive 5 s after: {job.alive()}")
        failures.check(eventually(lambda: job.records() == [], 5.0), f"sigkill: ledger not empty: {job.records()}")
    finally:
        job.cleanup()


def job_timeout(backend, failures):
    case = Case("job-timeout", {"job-timeout": "trap '' TERM; sleep MARK & sleep MARK; wait"},
                {"job-timeout": "INTERRUPTED"}, {"job-timeout": None})
    job = Job(case, "cgspawn", backend, extra_args=["--job-timeout", "3"]).run()
    try:
        print(f"--- job-timeout ({backend}): exit {job.proc.returncode}")
        failures.check(eventually(lambda: job.alive() == [], 5.0), f"job-timeout: alive: {job.alive()}")
        failures.check(job.statuses() == case.statuses, f"job-timeout: statuses {job.statuses()}")
        failures.check(len(job.result_files()) == 1, "job-timeout: no cgspawn-result.json")
        failures.check(eventually(lambda: job.records() == [], 5.0), f"job-timeout: ledger not empty: {job.records()}")
    finally:
        job.cleanup()


def incomplete_cleanup(failures):
    """A task whose process cannot be killed (frozen in the cgroup v1 freezer, as a D-state
    process is unkillable): the cleanup is incomplete, the job fails, the resource is named."""
    freezer_root = "/sys/fs/cgroup/freezer"
    if not os.path.exists(os.path.join(freezer_root, "cgroup.procs")):
        raise RuntimeError("no cgroup v1 freezer at /sys/fs/cgroup/freezer: this case needs the hybrid host")
    frozen = os.path.join(freezer_root, f"cgspawn-test-avocado-{os.getpid()}")
    case = Case("incomplete", {"incomplete": "echo $$ > PIDFILE; exec sleep MARK"}, {"incomplete": "INTERRUPTED"},
                {}, timeout=3)
    job = None
    pidfile = tempfile.mktemp(prefix="cgspawn-test-avocado-pid-")
    try:
        os.mkdir(frozen)
        case.scripts["incomplete"] = case.scripts["incomplete"].replace("PIDFILE", pidfile)
        job = Job(case, "cgspawn", "process", extra_config="grace = 0.5\n").start()
        failures.check(eventually(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), 60.0),
                       "incomplete: the test did not start")
        pid = open(pidfile).read().strip()
        with open(os.path.join(frozen, "cgroup.procs"), "w") as f:
            f.write(pid)
        with open(os.path.join(frozen, "freezer.state"), "w") as f:
            f.write("FROZEN")
        job.popen.wait(timeout=120)
        log = job.job_log()
        print(f"--- incomplete: exit {job.popen.returncode}")
        failures.check(job.popen.returncode & 0x2, f"incomplete: the job did not fail (exit {job.popen.returncode})")
        failures.check(re.search(r'cgspawn: task "[^"]+" \(process\): failed to destroy cgroup \S+: ', log) is not None,
                       "incomplete: no error naming the cgroup in job.log")
        with open(os.path.join(job.job_dir(), "full.log"), errors="replace") as f:
            failures.check("Could not terminate task" in f.read(), "incomplete: terminate_task did not return False")
    finally:
        if os.path.exists(frozen):
            with open(os.path.join(frozen, "freezer.state"), "w") as f:
                f.write("THAWED")
        if job:
            failures.check(eventually(lambda: job.alive() == [], 10.0), "incomplete: alive after the thaw")
            reap = subprocess.run([sys.executable, "-c", f"import cgspawn; print(cgspawn.reap(state_dir={job.ledger!r}))"],
                                  stdout=subprocess.PIPE)
            failures.check(reap.returncode == 0, "incomplete: reap after the thaw failed")
            failures.check(job.records() == [], f"incomplete: ledger not empty after reap: {job.records()}")
            failures.check(eventually(lambda: job.watchers() == [], 15.0), f"incomplete: watcher left: {job.watchers()}")
            job.cleanup()
        if os.path.exists(frozen):
            os.rmdir(frozen)
        if os.path.exists(pidfile):
            os.unlink(pidfile)


def refused_backend(failures):
    """A backend the plugin cannot run tasks in yet (docs/avocado.md): refused with that reason,
    and nothing started or recorded."""
    case = Case("refused", {"refused": "exit 0"}, {}, {})
    job = Job(case, "cgspawn", "podman").run()
    try:
        print(f"--- refused (podman): exit {job.proc.returncode}")
        failures.check("cgspawn: the podman backend is not supported by the Avocado plugin yet" in job.output,
                       f"refused: no refusal on the console:\n{job.output[-2000:]}")
        failures.check(job.proc.returncode != 0, f"refused: avocado exit {job.proc.returncode}")
        failures.check(job.result_files() == {}, f"refused: results {sorted(job.result_files())}")
        failures.check(job.records() == [], f"refused: ledger not empty: {job.records()}")
    finally:
        job.cleanup()


def cgroup2_controllers():
    with open("/proc/self/mounts") as f:
        mount = next(line.split()[1] for line in f if line.split()[2] == "cgroup2")
    with open(os.path.join(mount, "cgroup.controllers")) as f:
        return f.read().split()


def limits_setting(backend, failures):
    """`pids_max` reaches each task's cgroup where cgroup2 has the pids controller; where it has
    none (a hybrid host), the job is refused naming the limit: no test runs without it."""
    # The limit may sit on an ancestor of the task's own leaf: any will do. A systemd unit's is
    # one more, for the process cgspawn holds in it (docs/backends.md: 10 reads back as 11).
    want = 65 if backend == "systemd" else 64
    body = ('m=$(awk \'$3 == "cgroup2" { print $2; exit }\' /proc/self/mounts); '
            'd=$m$(sed -n \'s/^0:://p\' /proc/self/cgroup); '
            f'while [ "$d" != "$m" ]; do [ "$(cat "$d/pids.max" 2>/dev/null)" = {want} ] && exit 0; d=${{d%/*}}; done; '
            'exit 1')
    enforced = "pids" in cgroup2_controllers()
    case = Case("limits", {"limits": body}, {"limits": "PASS"} if enforced else {}, {})
    job = Job(case, "cgspawn", backend, extra_config="pids_max = 64\n").run()
    try:
        print(f"--- limits ({backend}, pids controller {'present' if enforced else 'absent'}): "
              f"exit {job.proc.returncode}")
        if enforced:
            failures.check(job.statuses() == case.statuses, f"limits: statuses {job.statuses()}")
        else:
            failures.check(f"cgspawn: pids_max is set, and the {backend} backend cannot enforce it here: the pids "
                           "controller" in job.output, f"limits: no refusal naming pids:\n{job.output[-2000:]}")
            failures.check(job.proc.returncode != 0, f"limits: avocado exit {job.proc.returncode}")
            failures.check(job.result_files() == {}, f"limits: results {sorted(job.result_files())}")
        failures.check(eventually(lambda: job.records() == [], 5.0), f"limits: ledger not empty: {job.records()}")
    finally:
        job.cleanup()


def avocado_workdirs():
    """What Avocado's runner leaves in /var/tmp when $TMPDIR is not the job's own."""
    return {e for e in os.listdir("/var/tmp") if e.startswith(".avocado-workdir-")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="process")
    parser.add_argument("--only", default="")
    parser.add_argument("--control", action="store_true", help="also run the bodies under --spawner process")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    failures = Failures()
    workdirs_before = avocado_workdirs()
    steps = [(c.name, lambda c=c: run_case(c, args.backend, failures)) for c in cases()]
    steps += [("parallel", lambda: run_case(parallel_case(), args.backend, failures)),
              ("guest", lambda: run_case(parallel_case("guest", ("background", "term-ignorer")), args.backend,
                                         failures)),
              ("sigkill", lambda: sigkill_mid_run(args.backend, failures)),
              ("job-timeout", lambda: job_timeout(args.backend, failures)),
              ("incomplete", lambda: incomplete_cleanup(failures)),
              ("refused", lambda: refused_backend(failures)),
              ("limits", lambda: limits_setting(args.backend, failures))]
    ran = []
    for name, step in steps:
        if (only and name not in only) or (not only and name == "guest"):
            continue  # "guest" is the guest's pair of cases in one job: the host runs each alone
        try:
            step()
        except Exception:  # pylint: disable=broad-except
            failures.append(f"{name}: {traceback.format_exc()}")
        ran.append(name)
    if args.control:
        for c in cases() + [parallel_case()]:
            run_control(c)
    new_workdirs = avocado_workdirs() - workdirs_before
    failures.check(not new_workdirs, f"Avocado work dirs left in /var/tmp: {sorted(new_workdirs)}")
    for f in failures:
        print("FAIL:", f)
    print(f"avocado cases ({args.backend}): {len(ran)} run, {len(failures)} failure(s): {', '.join(ran)}")
    return 1 if failures or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
