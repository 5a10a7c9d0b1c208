"""Runs one command inside the sandbox container with hard limits, then leaves no trace.

The generic path behind `exec` (any command): sent to the container with jail.py
(see payload.py) and run as root with ``python3 -I -c`` for every exec, so standard
library only. The command runs as the unprivileged sandbox user, in its own session,
in a fresh scratch directory (jail.enter_scratch), under `jail.supervise`: a wall-clock
deadline, head+tail capped output, and every process of the sandbox user killed and
its files and IPC objects wiped when it ends.

Prints one JSON object on stdout: returncode, timed_out, oom_killed, stdout, stderr,
stdout_bytes, stderr_bytes, duration, and clean: whether the killer verified the
container clean afterwards (if not, the host must not run anything else in it).
"""

import json
import os
import subprocess
import sys
import time

from fof_jail import BASE_ENV, Killer, clean_slate, enter_scratch, failure, oom_kills, supervise


def main() -> None:
    spec = json.loads(sys.argv[1])
    uid, gid = int(spec["uid"]), int(spec["gid"])
    uids, killer_uid = [int(u) for u in spec["uids"]], int(spec["killer_uid"])
    data = sys.stdin.buffer.read()

    # start from a clean slate even if an earlier supervisor was itself killed
    if not clean_slate(uids, killer_uid):
        result = failure(RuntimeError("the sandbox could not be verified clean before the command"))
        sys.stdout.write(json.dumps(dict(result, clean=False)))
        return
    killer = Killer(uids, killer_uid)

    stdin_fd = os.memfd_create("stdin")
    os.write(stdin_fd, data)
    os.lseek(stdin_fd, 0, os.SEEK_SET)
    env = dict(BASE_ENV, **(spec.get("env") or {}))
    mem_bytes, cwd = int(spec["mem_bytes"]), spec.get("cwd")
    oom_before = oom_kills()
    out_fd, out_write = os.pipe()
    err_fd, err_write = os.pipe()
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            spec["cmd"],
            stdin=stdin_fd,
            stdout=out_write,
            stderr=err_write,
            env=env,
            user=uid,
            group=gid,
            extra_groups=[],
            start_new_session=True,
            preexec_fn=lambda: enter_scratch(mem_bytes, cwd),  # after the switch to the sandbox user
        )
    except (OSError, subprocess.SubprocessError) as ex:
        killer.fire()
        result = failure(ex)
    else:
        for fd in (stdin_fd, out_write, err_write):
            os.close(fd)
        result = supervise(child, out_fd, err_fd, float(spec["timeout"]), int(spec["output_cap"]),
                           killer, oom_before, started)
    result.pop("answered", None)
    result["clean"] = killer.finish()
    killer.close()
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
