"""Property tests (hypothesis): the parser, the formatter and the integrators.

The ``dev`` profile runs few examples; ``CI=1`` selects the larger ``ci`` profile.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
from hypothesis import assume, given
from hypothesis import strategies as st

from quidpro.api import LoadedModel
from quidpro.errors import Loc, ParseError, SimulationError
from quidpro.io.load import parse_model
from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary
from quidpro.lang.expr import parse_expression
from quidpro.lang.format import format_expr

HEAD = "quidpro: 1\nname: p\ntime: {start: 0, stop: 2, dt: 0.25}\n"

# ---------------------------------------------------------------- syntax trees

KEYWORDS = {"and", "or", "not"}
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS
)
numbers = st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False)
BINARY_OPS = ["+", "-", "*", "/", "^", "<", "<=", ">", ">=", "==", "!=", "and", "or"]


def trees(leaves: st.SearchStrategy[Expr], funcs: st.SearchStrategy[str]) -> st.SearchStrategy:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.builds(Unary, st.sampled_from(["-", "+", "not"]), children),
            st.builds(Binary, st.sampled_from(BINARY_OPS), children, children),
            st.builds(Call, funcs, st.lists(children, min_size=0, max_size=3).map(tuple)),
        )

    return st.recursive(leaves, extend, max_leaves=12)


any_tree = trees(st.one_of(st.builds(Num, numbers), st.builds(Name, identifiers)), identifiers)


def test_parser_trees_have_only_non_negative_numbers() -> None:
    assert parse_expression("-2") == Unary("-", Num(2.0))
    assert parse_expression("-2 ^ 2") == Unary("-", Binary("^", Num(2.0), Num(2.0)))


@given(any_tree)
def test_format_then_parse_is_the_identity(tree: Expr) -> None:
    text = format_expr(tree)
    assert parse_expression(text) == tree, text


@given(st.text(alphabet="ab_1.2e+-*/^()<>=!,[] \n\t'\"#$;:x", max_size=30))
def test_any_text_parses_or_fails_with_a_parse_error(text: str) -> None:
    try:
        parse_expression(text, Loc("f.yaml", 3, 5, "  a: " + text))
    except ParseError as exc:
        error: ParseError | None = exc
    else:
        error = None
    if error is not None:
        assert error.message
        assert error.loc.file == "f.yaml"
        assert error.loc.line >= 3
        assert error.loc.col >= 1


# ------------------------------------------------- random well-formed models

PURE = {  # name -> arity
    "if": 3, "min": 2, "max": 3, "abs": 1, "exp": 1, "ln": 1, "log10": 1, "sqrt": 1,
    "sin": 1, "cos": 1, "floor": 1, "ceil": 1, "clip": 3, "step": 2, "ramp": 3, "pulse": 2,
    "smooth": 2, "smooth3": 3, "delay1": 2, "delay3": 3, "effect": 1,
}  # fmt: skip


def valid_trees() -> st.SearchStrategy[Expr]:
    leaf = st.one_of(
        st.builds(Num, st.floats(0, 100, allow_nan=False)),
        st.sampled_from([Name("x"), Name("y"), Name("s"), Name("time"), Name("dt")]),
    )

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        calls = st.sampled_from(sorted(PURE)).flatmap(
            lambda f: st.lists(children, min_size=PURE[f], max_size=PURE[f]).map(
                lambda args, f=f: Call(f, tuple(args))
            )
        )
        return st.one_of(
            st.builds(Unary, st.sampled_from(["-", "+", "not"]), children),
            st.builds(Binary, st.sampled_from(BINARY_OPS), children, children),
            calls,
        )

    return st.recursive(leaf, extend, max_leaves=10)


def _model(expr_text: str) -> str:
    return (
        HEAD
        + "constants:\n  x: 1.5\n  y: -2\n"
        + "lookups:\n  effect: {points: [[0, 1], [1, 0.5], [2, 0]], extrapolate: linear}\n"
        + "stocks:\n  s: {initial: 1, inflows: [f]}\n"
        + "flows:\n  f: 0.1 * s\n"
        + f"auxiliaries:\n  a: {expr_text!r}\n".replace("'", '"')
    )


@given(valid_trees(), st.sampled_from(["euler", "rk4"]))
def test_random_valid_expressions_evaluate_or_fail_cleanly(tree: Expr, method: str) -> None:
    text = format_expr(tree)
    assume('"' not in text)
    m = LoadedModel(parse_model(_model(text), "p.yaml"))  # a valid expression is accepted
    try:
        df = m.run(method=method, backend="numpy")
    except SimulationError as exc:  # a non-finite value, reported against 'a'
        failure: SimulationError | None = exc
    else:
        failure = None
    if failure is not None:
        assert failure.variable == "a"
        assert "became" in failure.message
        return
    assert np.isfinite(df["a"]).all()
    assert list(df.columns) == ["s", "f", "a"]


# ------------------------------------------------------------ batch == loop

BATCH = """
constants:
  k: 0.3
  cap: 50
  delay: 2
stocks:
  p: {initial: 5, inflows: [growth], outflows: [loss], non_negative: true}
  q: {initial: 1, inflows: [loss]}
flows:
  growth: k * p * (1 - p / cap) + pulse(3, 1)
  loss: effect(p / cap) * smooth(p, delay) * 0.2 + step(k, 2)
auxiliaries:
  seen: delay3(q, delay) + delay_fixed(p, 1, 0) + sin(time * k) + exp(-k) + ln(1 + p)
lookups:
  effect: {points: [[0, 0], [0.5, 0.2], [1, 1]]}
"""


@given(
    st.lists(st.floats(0.01, 2.0), min_size=2, max_size=6),
    st.floats(10, 100),
    st.sampled_from(["euler", "rk4"]),
)
def test_batch_equals_loop_bit_for_bit(ks: list[float], cap: float, method: str) -> None:
    m = LoadedModel(parse_model(HEAD.replace("stop: 2", "stop: 6") + BATCH, "b.yaml"))
    ks_arr = np.array(ks)
    batch = m.simulate(
        n_runs=len(ks), set={"k": ks_arr, "cap": cap}, method=method, backend="numpy"
    )
    for i, k in enumerate(ks):
        one = m.simulate(set={"k": k, "cap": cap}, method=method, backend="numpy")
        np.testing.assert_array_equal(batch.values[:, :, i], one.values[:, :, 0])


# ------------------------------------------------------ conservation of stock


@st.composite
def flow_networks(draw: st.DrawFn) -> tuple[str, int]:
    n = draw(st.integers(2, 5))
    n_flows = draw(st.integers(1, 7))
    lines = ["stocks:"]
    inflows: dict[int, list[str]] = {i: [] for i in range(n + 1)}  # n is the sink
    outflows: dict[int, list[str]] = {i: [] for i in range(n)}
    flows = ["flows:"]
    for f in range(n_flows):
        src = draw(st.integers(0, n - 1))
        dst = draw(st.integers(0, n).filter(lambda d, src=src: d != src))
        rate = draw(st.floats(0, 3))
        kind = draw(st.sampled_from(["linear", "constant", "pulse", "min"]))
        eq = {
            # Flows never negative: a negative inflow is not what non_negative limits.
            "linear": f"{rate} * max(s{src}, 0)",
            "constant": f"{rate}",
            "pulse": f"pulse({rate}, 0.5, 0.75)",
            "min": f"min(max(s{src}, 0), {rate}) * (1 + sin(time))",
        }[kind]
        flows.append(f"  f{f}: {eq}")
        outflows[src].append(f"f{f}")
        inflows[dst].append(f"f{f}")
    for i in range(n):
        init = draw(st.floats(0, 10))
        nn = draw(st.booleans())
        lines.append(
            f"  s{i}: {{initial: {init}, inflows: [{', '.join(inflows[i])}], "
            f"outflows: [{', '.join(outflows[i])}], non_negative: {str(nn).lower()}}}"
        )
    lines.append(f"  sink: {{initial: 0, inflows: [{', '.join(inflows[n])}]}}")
    return "\n".join([*lines, *flows]) + "\n", n


@given(flow_networks(), st.sampled_from(["euler", "rk4"]))
def test_stocks_conserve_what_flows_move(network: tuple[str, int], method: str) -> None:
    body, n = network
    m = LoadedModel(parse_model(HEAD.replace("stop: 2", "stop: 5") + body, "net.yaml"))
    df = m.run(method=method, backend="numpy")
    stocks = [f"s{i}" for i in range(n)] + ["sink"]
    total = df[stocks].sum(axis=1).to_numpy()
    scale = max(1.0, float(np.abs(df[stocks].to_numpy()).max()))
    np.testing.assert_allclose(total, total[0], rtol=0, atol=1e-12 * scale * len(stocks))
    flagged = [
        f"s{i}"
        for i in range(n)
        if f"s{i}: {{initial" in body
        and "non_negative: true" in body.split(f"s{i}: ")[1].split("\n")[0]
    ]
    for s in flagged:
        assert df[s].min() >= 0, s


# ------------------------------------------- linear systems against expm(A t)


@st.composite
def linear_systems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 4))
    entries = st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 6))
    a = np.array(draw(st.lists(st.lists(entries, min_size=n, max_size=n), min_size=n, max_size=n)))
    y0 = np.array(
        draw(st.lists(st.floats(-5, 5).map(lambda v: round(v, 6)), min_size=n, max_size=n))
    )
    return a, y0


def _linear_model(a: np.ndarray, y0: np.ndarray, dt: float) -> LoadedModel:
    n = len(y0)
    lines = [f"quidpro: 1\nname: lin\ntime: {{start: 0, stop: 1, dt: {dt}}}", "stocks:"]
    for i in range(n):
        lines.append(f"  y{i}: {{initial: {float(y0[i])!r}, inflows: [d{i}]}}")
    lines.append("flows:")
    for i in range(n):
        terms = " + ".join(f"({float(a[i, j])!r}) * y{j}" for j in range(n))
        lines.append(f"  d{i}: {terms}")
    return LoadedModel(parse_model("\n".join(lines) + "\n", "lin.yaml"))


@given(linear_systems())
def test_random_linear_models_match_their_closed_form(
    system: tuple[np.ndarray, np.ndarray],
) -> None:
    a, y0 = system
    n = len(y0)
    names = [f"y{i}" for i in range(n)]
    dt = 1 / 64
    m = _linear_model(a, y0, dt)
    df = m.run(method="rk4", backend="numpy")
    for t in (0.25, 0.5, 1.0):
        exact = scipy.linalg.expm(a * t) @ y0
        got = df.loc[t, names].to_numpy(dtype=float)
        # RK4's global error is O(dt^4) relative to the solution's size: about 2e-8 here
        # (entries of A within [-1, 1], so the solution grows up to e^n times y0).
        scale = max(1.0, np.abs(exact).max())
        np.testing.assert_allclose(got, exact, rtol=0, atol=1e-7 * scale)
    # And exactly RK4's own discrete solution: y_n = R(dt A)^n y0, R(z) = 1 + z + ... + z^4/24.
    z = dt * a
    r = np.eye(n) + z + z @ z / 2 + z @ z @ z / 6 + z @ z @ z @ z / 24
    np.testing.assert_allclose(
        df.loc[1.0, names].to_numpy(dtype=float),
        np.linalg.matrix_power(r, 64) @ y0,
        rtol=1e-10,
        atol=1e-12,
    )
    euler = m.run(method="euler", backend="numpy")
    step = np.eye(n) + dt * a
    exact_euler = np.linalg.matrix_power(step, 64) @ y0
    np.testing.assert_allclose(
        euler.loc[1.0, names].to_numpy(dtype=float), exact_euler, rtol=1e-10, atol=1e-12
    )


def test_property_helpers_are_sane() -> None:
    # The conservation check can fail: a leaking network (no sink stock) does not conserve.
    body = "stocks:\n  s0: {initial: 1, outflows: [f0]}\n  s1: {initial: 0}\nflows:\n  f0: s0\n"
    df = LoadedModel(parse_model(HEAD + body, "leak.yaml")).run(backend="numpy")
    assert not math.isclose(df[["s0", "s1"]].sum(axis=1).iloc[-1], 1.0)
