"""Where a graded program's CPU goes inside its container: per process, for the grader's paths.

    python bench/grading_cpu.py [grade|script|empty]

Runs all 164 HumanEval references one at a time through one fof_docker container's `exec`
(`grade`: GRADE_COMMAND, the split verdict; `script`: SCRIPT_COMMAND, the program in one
process; `empty`: a script that only prints) and prints, per program: wall time, the container
cgroup's CPU time, and for each long-lived process in the container (the server, its killer,
its zygote, docker-init) its own CPU and that of the children it reaped (the zygote reaps the
programs' first process; init reaps orphans, e.g. the split verdict's candidate), with their
minor (copy-on-write) page faults. Reads /proc/<pid>/stat of the container's processes from
the host (tick resolution: figures are means over all programs). Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execution import CONFIG, SENTINEL, jobs  # noqa: E402

from fof_inspect.grading.command import GRADE_COMMAND, SCRIPT_COMMAND  # noqa: E402
from fof_inspect.sandbox.provider import FofDockerSandbox  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def processes(container_id: str) -> dict[str, tuple[str, list[int]]]:
    """pid -> (command line, [own CPU ticks, reaped children's ticks, minflt, children's minflt])."""
    out = subprocess.run(["docker", "top", container_id, "-eo", "pid,args"], capture_output=True, text=True,
                         check=True).stdout.splitlines()[1:]
    found = {}
    for line in out:
        pid, args = line.split(None, 1)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        found[pid] = (args, [int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]),
                             int(fields[7]), int(fields[8])])
    return found


def cgroup_cpu_ns(container_id: str) -> int:
    for path in (f"/sys/fs/cgroup/cpu,cpuacct/docker/{container_id}/cpuacct.usage",
                 f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat"):
        if os.path.exists(path):
            text = Path(path).read_text()
            return int(text) if path.endswith("usage") else int(text.split()[1]) * 1000
    reading = ["cat", "/sys/fs/cgroup/cpuacct/cpuacct.usage"]
    return int(subprocess.run(["docker", "exec", container_id, *reading], capture_output=True, text=True).stdout)


async def main(kind: str) -> None:
    progs = jobs()
    command = GRADE_COMMAND if kind == "grade" else SCRIPT_COMMAND
    inputs = [r if kind == "grade" else (s if kind == "script" else f"print({SENTINEL!r})") for s, r in progs]
    await FofDockerSandbox.task_init("bench", CONFIG)
    envs = await FofDockerSandbox.sample_init("bench", CONFIG, {})
    box = envs["default"].as_type(FofDockerSandbox)
    try:
        for data in inputs[:5]:  # the server warm
            await box.exec(command, input=data, timeout=10)
        before, cpu0, started = processes(box.container.id), cgroup_cpu_ns(box.container.id), time.monotonic()
        for data in inputs:
            await box.exec(command, input=data, timeout=10)
        wall, cpu1, after = time.monotonic() - started, cgroup_cpu_ns(box.container.id), processes(box.container.id)
    finally:
        await FofDockerSandbox.sample_cleanup("bench", CONFIG, envs, False)
        await FofDockerSandbox.task_cleanup("bench", CONFIG, True)
    n = len(inputs)
    print(f"{kind}: {n} programs, wall {wall / n * 1000:.2f} ms, container CPU {(cpu1 - cpu0) / 1e6 / n:.2f} ms per program")
    for pid, (args, now) in after.items():
        if pid in before:
            d = [a - b for a, b in zip(now, before[pid][1])]
            if any(d):
                print(f"  {args[:48]:48s} own {d[0] / TICK / n * 1000:.2f} ms, reaped children {d[1] / TICK / n * 1000:.2f} ms"
                      f" ({d[3] / n:.0f} minor faults per program)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "grade"))
