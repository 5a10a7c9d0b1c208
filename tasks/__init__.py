"""The benchmarks as Inspect tasks (run them by path: `inspect eval tasks/humaneval.py`)."""
