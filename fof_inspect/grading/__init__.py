"""The grading layer: code extraction, the graded program, running it, the verdict and
the error taxonomy.

Below solvers and scorers (both import it; it imports neither) and above no sandbox in
particular: a program runs through `sandbox().exec(GRADE_COMMAND, ...)`, so any Inspect
sandbox provider grades it, and Inspect's proxy logs and limits every run.
"""
