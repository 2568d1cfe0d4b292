"""Explicit Runge–Kutta methods as data (a Butcher tableau), as diffrax does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ButcherTableau:
    """Stages ``k_i = f(t + c_i dt, y + dt * sum_j a_ij k_j)``; ``y' = y + dt * sum b_i k_i``."""

    name: str
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    order: int

    def __post_init__(self) -> None:
        assert len(self.a) == len(self.b) == len(self.c)
        assert np.isclose(sum(self.b), 1.0), "weights must sum to one"
        for i, row in enumerate(self.a):
            assert len(row) == i, "explicit methods only: a is strictly lower triangular"
            assert np.isclose(sum(row), self.c[i]), "row sums of a must equal c"
