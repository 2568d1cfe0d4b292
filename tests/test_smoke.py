"""The built-in example model against its closed-form solution."""

import numpy as np

import quidpro


def test_logistic_rk4_matches_closed_form() -> None:
    df = quidpro.load("logistic").run(method="rk4")
    t = df.index.to_numpy()
    exact = 1000 / (1 + (1000 / 10 - 1) * np.exp(-0.1 * t))
    np.testing.assert_allclose(df["population"], exact, rtol=1e-6)
