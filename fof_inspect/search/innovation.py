"""Innovation numbers: the historical markings that let crossover align stages (paper §3.2).

The paper gives innovation numbers to refinement stages rather than to connections
as classical NEAT does. A stage keeps its number for life, so two genomes that both
descend from the stage that introduced it carry the same number and crossover treats
those stages as matching; stages added independently get different numbers and are
disjoint.

Number 0 is `FIRST_STAGE_INNOVATION`: the one stage every initial genome (and every
bundled named pipeline) starts with, so the initial population is aligned the way
NEAT's minimal initial genomes are. A counter hands out numbers above it.
"""

from __future__ import annotations

__all__ = ["FIRST_STAGE_INNOVATION", "InnovationCounter"]

FIRST_STAGE_INNOVATION = 0


class InnovationCounter:
    """Hands out fresh innovation numbers for new stages; saved between generations as an int."""

    def __init__(self, value: int = FIRST_STAGE_INNOVATION) -> None:
        if value < 0:
            raise ValueError(f"innovation counter must be at least 0 (got {value})")
        self._value = value

    @property
    def value(self) -> int:
        """The highest number handed out so far (or reserved); the next one is value + 1."""
        return self._value

    def next(self) -> int:
        """A number no stage has used yet."""
        self._value += 1
        return self._value
