# SPDX-License-Identifier: MIT
"""The kernel floor of bench/bench_scale.sh [s3]/[s4]: N sleeping processes, each in a cgroup of
its own under PARENT, killed by writing cgroup.kill into each and waiting until each is empty
(poll on cgroup.events, no sleeping loop). Prints the milliseconds of the kill and the wait,
then those of removing the N empty cgroups (rmdir), which a verified destroy also does: context
for the ratio, not part of its floor.
Usage: /usr/bin/python3 scale_floor.py PARENT N"""
import os
import select
import subprocess
import sys
import time


def populated(path):
    with open(os.path.join(path, "cgroup.events")) as f:
        return "populated 1" in f.read()


def wait_empty(path, deadline):
    with open(os.path.join(path, "cgroup.events")) as f:
        poller = select.poll()
        poller.register(f, select.POLLPRI)
        while True:
            f.seek(0)
            if "populated 0" in f.read():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(f"scale_floor: {path} not empty in time")
            poller.poll(left * 1000)


def main():
    parent, n = sys.argv[1], int(sys.argv[2])
    cgroups = [os.path.join(parent, f"floor-{i}") for i in range(n)]
    children = []
    try:
        for cg in cgroups:
            os.mkdir(cg)
            procs = os.path.join(cg, "cgroup.procs")
            children.append(subprocess.Popen(["sleep", "100000"], preexec_fn=lambda p=procs: open(p, "w").write("0")))
        for cg in cgroups:
            while not populated(cg):
                time.sleep(0.001)
        t0 = time.monotonic()
        for cg in cgroups:
            with open(os.path.join(cg, "cgroup.kill"), "w") as f:
                f.write("1")
        deadline = time.monotonic() + 60
        for cg in cgroups:
            wait_empty(cg, deadline)
        t1 = time.monotonic()
        for c in children:
            c.wait()
        t2 = time.monotonic()
        for cg in cgroups:
            os.rmdir(cg)
        print(f"{(t1 - t0) * 1000:.1f} {(time.monotonic() - t2) * 1000:.1f}")
    finally:
        for c in children:
            c.kill()
            c.wait()
        for cg in cgroups:
            if os.path.isdir(cg):
                os.rmdir(cg)


main()
