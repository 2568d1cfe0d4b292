"""Stocks initialised from other stocks: computed in dependency order, loops located."""

from __future__ import annotations

import numpy as np
import pytest

from quidpro.api import LoadedModel
from quidpro.errors import CycleError
from quidpro.io.load import parse_model

HEAD = "quidpro: 1\nname: m\ntime: {start: 0, stop: 4, dt: 0.5}\n"


def run(text: str, method: str = "euler") -> dict[str, np.ndarray]:
    df = LoadedModel(parse_model(text, "model.yaml")).run(backend="numpy", method=method)
    return {c: df[c].to_numpy() for c in df.columns}


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_stocks_start_from_other_stocks_in_any_file_order(method: str) -> None:
    # c depends on b, which depends on a; written in the reverse order of computing.
    text = HEAD + (
        "constants:\n  k: 3\n"
        "stocks:\n"
        "  c: {initial: b + a, outflows: [out]}\n"
        "  b: {initial: 2 * a + k}\n"
        "  a: {initial: k}\n"
        "flows:\n  out: 0.5 * c\n"
    )
    r = run(text, method)
    assert r["a"][0] == 3
    assert r["b"][0] == 9
    assert r["c"][0] == 12
    # c decays at rate 0.5 from 12: Euler's exact discrete solution 12 * 0.75^n, and
    # RK4 within its error of the exponential (dt = 0.5: about 2e-4 relative)
    n = np.arange(9)
    if method == "euler":
        np.testing.assert_allclose(r["c"], 12 * 0.75**n, rtol=1e-12)
    else:
        np.testing.assert_allclose(r["c"], 12 * np.exp(-0.25 * n), rtol=1e-3)


def test_stocks_that_start_from_each_other_are_a_located_error() -> None:
    text = HEAD + "stocks:\n  a: {initial: b + 1}\n  b: {initial: 2 * a}\n"
    with pytest.raises(CycleError) as info:
        LoadedModel(parse_model(text, "model.yaml"))
    assert (str(info.value.loc), info.value.message) == (
        "model.yaml:5:3",
        "initial values depend on each other: a -> b -> a "
        "(break it with a stock, a smooth() or a delay)",
    )


def test_a_stock_may_start_from_its_own_initial_only_once() -> None:
    text = HEAD + "stocks:\n  a: {initial: a + 1}\n"
    with pytest.raises(CycleError) as info:
        LoadedModel(parse_model(text, "model.yaml"))
    assert info.value.message.startswith("initial values depend on each other: a -> a")
