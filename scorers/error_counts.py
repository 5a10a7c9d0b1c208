"""Failures per error type, correct across epochs.

Declared over unreduced scores: after epoch reduction a score keeps only the first
epoch's metadata, so counting reduced scores would be wrong for epochs > 1. Reported
as the mean count per epoch, comparable with a single run's counts.
"""

from __future__ import annotations

from collections import Counter

from inspect_ai.scorer import Metric, SampleScore, metric


@metric(scores="unreduced")
def error_counts() -> Metric:
    def compute(scores: list[SampleScore]) -> dict[str, float]:
        samples = {s.sample_id for s in scores}
        epochs = len(scores) / len(samples) if samples else 1
        counts = Counter(
            (s.score.metadata or {}).get("error_type")
            for s in scores
            if (s.score.metadata or {}).get("error_type")
        )
        return {name: round(n / epochs, 3) for name, n in sorted(counts.items())} or {"failures": 0.0}

    return compute
