"""The numba kernel's lanes: members computed a row at a time must be what one member
alone computes, lookups written branch-free must equal the bisection they replace, and
a failure in any lane of any block is that member's own.
"""

from __future__ import annotations

import numpy as np
import pytest

import quidpro
from quidpro.model.spec import Lookup

pytest.importorskip("numba")

from quidpro.solve import jit  # after the skip: numba is optional
from quidpro.solve.jit_runtime import j_interp
from quidpro.solve.runtime import LookupFn


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


TABLES = [
    Lookup("uneven", (-1.0, 0.0, 0.3, 2.0, 3.0), (0.0, 1.0, -2.0, 1.0, 5.0)),
    Lookup("linear", (0.0, 1.0, 2.0), (0.0, 10.0, 20.5), extrapolate="linear"),
    Lookup("two", (0.2, 0.4), (0.5, 0.8)),
    Lookup("flat", (0.0, 1.0, 2.0), (3.0, 3.0, 3.0)),
]
EDGES = [np.nan, -np.inf, np.inf, 1e300, -1e300]
POINTS = np.array(
    [*EDGES, -5.0, -1.0, -0.5, -0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 1.0, 1.5, 2.0, 2.5, 3.0, 7.0]
)


@pytest.mark.parametrize("lk", TABLES, ids=lambda lk: lk.name)
def test_a_branch_free_lookup_equals_the_bisection_bit_for_bit(lk: Lookup) -> None:
    source = "\n".join(jit._lookup_function("f", lk)).replace("cache=True", "cache=False")
    assert "j_interp" not in source  # small increasing tables take the select chain
    ns: dict[str, object] = {}
    exec("import numpy as np\nfrom numba import njit\n" + source, ns)  # our generated code
    xs, ys = np.array(lk.xs), np.array(lk.ys)
    linear = lk.extrapolate == "linear"
    got = np.array([ns["f"](x) for x in POINTS])  # type: ignore[operator]
    want = np.array([j_interp(x, xs, ys, linear, False) for x in POINTS])
    np.testing.assert_array_equal(got, want)  # NaN where the bisection gives NaN
    fn = LookupFn(lk.xs, lk.ys, lk.extrapolate)  # and NumPy's kernel, to rounding
    np.testing.assert_allclose(got, fn(POINTS), rtol=1e-14, atol=1e-14, equal_nan=True)


def test_large_discrete_or_unsorted_tables_keep_the_bisection() -> None:
    many = Lookup("many", tuple(float(i) for i in range(40)), tuple(float(i) for i in range(40)))
    step = Lookup("step", (0.0, 1.0, 2.0), (1.0, 2.0, 3.0), discrete=True)
    for lk in (many, step):
        assert "j_interp" in "\n".join(jit._lookup_function("f", lk))


LAGS = """\
quidpro: 1
name: lanes
time: {start: 0, stop: 12, dt: 0.5}
constants: {d: 2, g: 0.1, z: 5}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: g * x * t(time) - min(x, 0.5) * 0.01
auxiliaries:
  late: delay_fixed(x, d, -1)
  before: previous(late, 5)
  fragile: ln(z - time) + max(x, 1)
lookups:
  t: {points: [[0, 1], [3, 2], [6, 1.5], [12, 0.5]]}
"""


def test_lanes_equal_numpy_with_lags_and_failures_differing_between_members(
    write_model,
) -> None:
    """19 members: two full blocks of 8 and one of 3; lags and failure times per member."""
    m = quidpro.load(write_model(LAGS))
    n = 19
    rng = np.random.default_rng(3)
    sets = {
        "d": rng.choice([0.5, 1.0, 2.0, 3.5], n),
        "g": rng.uniform(0.0, 0.3, n),
        "z": np.where(np.arange(n) % 4 == 1, 20.0, rng.uniform(2.0, 11.0, n)),
    }
    a = m.simulate(n_runs=n, set=sets, backend="numpy")
    b = m.simulate(n_runs=n, set=sets, backend="jit")
    np.testing.assert_allclose(b.values, a.values, rtol=1e-13, atol=0, equal_nan=True)
    assert b.failures == a.failures
    assert len(b.failures) == n - 5  # the members with z = 20 never fail
    assert {name for name, _ in b.failures.values()} == {"fragile"}
    for i in (0, 9, 17, 18):  # one member alone: the same numbers as in its block
        one = m.simulate(set={k: v[i] for k, v in sets.items()}, backend="jit")
        np.testing.assert_array_equal(one.values[:, :, 0], b.values[:, :, i])
        assert one.failures.get(0) == b.failures.get(i)


def test_min_and_max_propagate_nan_as_numpy_does(write_model) -> None:
    m = quidpro.load(
        write_model(
            "quidpro: 1\nname: nanmin\ntime: {start: 0, stop: 2, dt: 1}\nconstants: {x: 1}\n"
            "auxiliaries:\n  a: min(x, 0 / 0 * time) + max(x, 0)\n"
        )
    )
    for backend in ("numpy", "jit", "vm"):
        traj = m.simulate(backend=backend)
        assert traj.failures == {0: ("a", 0.0)}, backend
