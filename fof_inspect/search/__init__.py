"""The NEAT search over pipeline genomes (`fof evolve`), an outer loop of Inspect evals.

`engine.py` runs it (start / step / resume / validate); `evaluation.py` evaluates a
generation's genomes as Inspect tasks; `config.py` holds the run's settings and their
defaults, `checkpoint.py` the resumable state, `summary.py` the champion's validation;
the operators are `innovation.py`, `mutation.py`, `crossover.py`, `speciation.py`,
`selection.py` and `subsets.py` (the per-generation problems).
"""
