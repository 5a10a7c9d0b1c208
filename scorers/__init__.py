"""Grading: the program, the error taxonomy, the pass@1 scorer and its metrics."""
