"""Random builtins (XMILE NORMAL, RANDOM, LOGNORMAL, POISSON, EXPRND; quidpro normal, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import quidpro

MODEL = """\
quidpro: 1
name: noise
time: {start: 0, stop: 3, dt: 1}
constants: {m: 2, seed: 0}
auxiliaries:
  n: normal(m, 3, seed)
  u: uniform(1, 2, 7)
  g: lognormal(5, 2)
  p: poisson(4)
  big: poisson(100)
  e: exprnd(3)
"""


@pytest.fixture
def model(write_model) -> quidpro.LoadedModel:
    return quidpro.load(write_model(MODEL))


def test_moments(model: quidpro.LoadedModel) -> None:
    """Analytic means and sds, within a sampling tolerance (4 steps x 2,000 members)."""
    traj = model.simulate(n_runs=2000)
    for col, mean, sd in [
        ("n", 2, 3),
        ("u", 1.5, 1 / np.sqrt(12)),
        ("g", 5, 2),
        ("p", 4, 2),
        ("big", 100, 10),
        ("e", 3, 3),
    ]:
        x = traj.series(col).ravel()
        assert x.mean() == pytest.approx(mean, rel=0.05, abs=0.1), col
        assert x.std() == pytest.approx(sd, rel=0.08), col
    u = traj.series("u")
    assert ((u > 1) & (u < 2)).all()
    p = traj.series("p")
    assert (p == np.round(p)).all()


def test_seeded_regression(model: quidpro.LoadedModel) -> None:
    first = model.run()["n"].to_numpy()
    expected = [2.9429518326, -5.1493160739, 2.5794948626, 6.8806726459]
    np.testing.assert_allclose(first, expected, rtol=1e-9)  # the streams are a contract
    np.testing.assert_allclose(first, model.run()["n"].to_numpy())
    other = model.run(set={"seed": 1})["n"].to_numpy()
    assert not np.allclose(first, other)


def test_members_are_independent_and_a_batch_equals_a_loop(model: quidpro.LoadedModel) -> None:
    batch = model.simulate(n_runs=500, set={"seed": np.zeros(500)})
    alone = model.simulate(n_runs=1)
    np.testing.assert_array_equal(batch.values[:, :, 0], alone.values[:, :, 0])
    n = batch.series("n")  # (time, member): consecutive members are uncorrelated
    assert abs(np.corrcoef(n[:, :-1].ravel(), n[:, 1:].ravel())[0, 1]) < 0.1


def test_every_runge_kutta_stage_sees_the_steps_draw(write_model) -> None:
    text = (
        "quidpro: 1\nname: s\ntime: {stop: 50, dt: 1}\nstocks:\n  s: {initial: 0, inflows: [f]}\n"
    )
    m = quidpro.load(write_model(text + "flows:\n  f: normal(0, 1)\n"))
    euler, rk4 = m.run(), m.run(method="rk4")
    np.testing.assert_allclose(euler["s"], rk4["s"], atol=1e-12)


def test_xmile_names(tmp_path: Path) -> None:
    p = tmp_path / "r.xmile"
    p.write_text(
        '<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"><sim_specs><stop>20'
        '</stop></sim_specs><model><variables><aux name="a"><eqn>NORMAL(2, 3)</eqn></aux>'
        '<aux name="b"><eqn>RANDOM(0, 1, 5)</eqn></aux><aux name="c"><eqn>EXPRND(2)</eqn>'
        "</aux></variables></model></xmile>"
    )
    df = quidpro.load(p).run()
    assert df["b"].between(0, 1).all()
    assert df["a"].std() > 0


def test_random_values_are_not_constants(write_model) -> None:
    with pytest.raises(quidpro.ModelError, match="must be constant"):
        quidpro.load(
            write_model("quidpro: 1\nname: s\ntime: {stop: 5}\nconstants:\n  k: normal(0, 1)\n")
        )


def test_a_batch_of_a_larger_ensemble_draws_what_the_whole_ensemble_draws(
    model: quidpro.LoadedModel,
) -> None:
    """Draws depend on the member's ensemble index, not its place in a batch."""
    whole = model.simulate(n_runs=10).values
    second_half = model.simulate(n_runs=5, member_offset=5).values
    np.testing.assert_array_equal(second_half, whole[:, :, 5:])
    assert not np.array_equal(model.simulate(n_runs=5).values, second_half)


def test_ensemble_batches_do_not_repeat_noise(write_model) -> None:
    """An ensemble run in small batches gives every member its own draws."""
    from quidpro.ensemble import ensemble

    m = quidpro.load(write_model(MODEL))
    small = ensemble(m, 12, seed=3, batch_size=4, variables=["n"], backend="numpy")
    large = ensemble(m, 12, seed=3, batch_size=12, variables=["n"], backend="numpy")
    np.testing.assert_array_equal(small.values, large.values)
    members = small.values[0, 0, :]  # time 0: twelve members, twelve different draws
    assert len(set(members.tolist())) == 12
