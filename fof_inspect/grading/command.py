"""The one command the grader runs, a contract between the grader and any sandbox.

Any sandbox with `sh` and Python 3.11+ on its PATH runs it as written: the program
arrives on stdin, is saved as `solution.py` in the command's working directory (so
tracebacks show its lines) and run as a script in isolated mode. A provider may
recognise this exact command and run it another way with the same result: fof_docker
runs it in its warm program server (a fork per program, ~5 ms instead of ~80 ms).
"""

from __future__ import annotations

GRADE_COMMAND: list[str] = ["sh", "-c", "cat > solution.py && exec python3 -I solution.py"]
