"""The integration methods by name."""

from quidpro.solve.euler import EULER
from quidpro.solve.rk4 import RK4
from quidpro.solve.tableau import ButcherTableau

METHODS: dict[str, ButcherTableau] = {"euler": EULER, "rk4": RK4}
