"""Forward Euler: first order, one evaluation per step; the SD default."""

from quidpro.solve.tableau import ButcherTableau

EULER = ButcherTableau("euler", a=((),), b=(1.0,), c=(0.0,), order=1)
