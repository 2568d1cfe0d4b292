"""Loops That Matter against known answers: analytic identities and the papers' tables.

Papers: Schoenberg, Davidsen & Eberlein (2020), "Understanding model behavior using
the Loops that Matter method", System Dynamics Review 36(2) ("LTM 2020"); Schoenberg,
Hayward & Eberlein (2023), "Improving Loops that Matter", SDR 39(2) ("LTM 2023").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.analysis.loops import analyse_loops, dominant_mask, link_scores, relative_scores
from quidpro.errors import ModelError

DATA = Path(__file__).parent / "data" / "loops"

LOGISTIC = """
quidpro: 1
name: logistic_loops
time: {{start: 0, stop: 100, dt: {dt}}}
constants: {{growth_rate: 0.1, capacity: 1000}}
stocks:
  population: {{initial: {p0}, inflows: [births]}}
flows:
  births: growth_rate * population * room
auxiliaries:
  room: 1 - population / capacity
"""


def _logistic(write_model, dt: float = 0.25, p0: float = 10):
    return quidpro.load(write_model(LOGISTIC.format(dt=dt, p0=p0)))


def test_logistic_reinforcing_share_is_the_room_left(write_model) -> None:
    # Single stock: the reinforcing loop's share is 1 - P/K exactly (P one step back,
    # as the partial changes are taken over [t - dt, t]), so it passes one half where
    # the population passes K/2.
    m = _logistic(write_model)
    a = analyse_loops(m)
    assert [(lp.id, lp.variables) for lp in a.loops] == [
        ("R1", ("population", "births")),
        ("B1", ("population", "room", "births")),
    ]
    pop = m.run()["population"].to_numpy()
    r1, b1 = a.loop("R1").relative_score, a.loop("B1").relative_score
    np.testing.assert_allclose(r1[1:], 1 - pop[:-1] / 1000, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.abs(r1[1:]) + np.abs(b1[1:]), 1.0, atol=1e-12)
    cross = np.flatnonzero((r1[1:-1] > 0.5) & (r1[2:] <= 0.5))[0] + 1
    assert pop[cross - 1] < 500 <= pop[cross]
    # Dominance: R1 until the crossing, B1 after.
    first, second = a.dominant_periods
    assert first.loops == ("R1",)
    assert second.loops == ("B1",)
    assert first.end == a.times[cross]
    assert second.start == a.times[cross + 1]


def test_logistic_scores_vanish_at_equilibrium(write_model) -> None:
    # Started at its equilibrium nothing changes: every score is 0, so both loops are
    # inactive (reported as such, with no polarity to show) and none dominates.
    a = analyse_loops(_logistic(write_model, p0=1000))
    assert a.loops == []
    assert a.dominant_periods == []
    assert a.searched["inactive"] == 2
    # Approaching K the reinforcing loop's share goes to 0 (its gain r·room does).
    b = analyse_loops(_logistic(write_model, p0=10))
    assert abs(b.loop("R1").relative_score[-1]) < 0.01


@pytest.mark.parametrize("dt", [1.0, 0.25, 0.01])
def test_isolated_loop_scores_plus_or_minus_one_at_any_dt(write_model, dt: float) -> None:
    text = f"""
quidpro: 1
name: isolated
time: {{start: 0, stop: 20, dt: {dt}}}
constants: {{rate: 0.07, lifetime: 8}}
stocks:
  savings: {{initial: 100, inflows: [interest]}}
  stockpile: {{initial: 500, outflows: [decay]}}
flows:
  interest: rate * balance
  decay: stockpile / lifetime
auxiliaries:
  balance: savings * 1
"""
    a = analyse_loops(quidpro.load(write_model(text)))
    grow, drain = a.loop("R1"), a.loop("B1")
    assert grow.variables == ("savings", "balance", "interest")
    np.testing.assert_array_equal(grow.score[1:], 1.0)
    np.testing.assert_array_equal(drain.score[1:], -1.0)
    assert grow.score[0] == 0.0  # nothing has changed yet at the start
    assert grow.partition != drain.partition  # two cycle partitions, each all its own
    np.testing.assert_array_equal(grow.relative_score[1:], 1.0)


ARMS = """
quidpro: 1
name: three_party_arms_race
time: {start: 0, stop: 100, dt: 0.25}
constants: {adjust: 5}
stocks:
  arms_a: {initial: 50, inflows: [change_a]}
  arms_b: {initial: 100, inflows: [change_b]}
  arms_c: {initial: 150, inflows: [change_c]}
flows:
  change_a: (target_a - arms_a) / adjust
  change_b: (target_b - arms_b) / adjust
  change_c: (target_c - arms_c) / adjust
auxiliaries:
  target_a: arms_b + 0.9 * arms_c
  target_b: arms_a + 1.1 * arms_c
  target_c: 1.1 * arms_a + 0.9 * arms_b
"""


def test_three_party_arms_race_finds_all_eight_loops(write_model) -> None:
    # LTM 2020 and Eberlein & Schoenberg (2020): 3 self-adjusting balancing loops, 3
    # pairwise and 2 three-party reinforcing loops; the three-party loops drive the
    # long-run growth (the pairwise gains are at most 1).
    a = analyse_loops(quidpro.load(write_model(ARMS)))
    assert a.searched["loops"] == 8
    assert not a.searched["cut"]
    stocks = {lp.id: {v for v in lp.variables if v.startswith("arms_")} for lp in a.loops}
    assert sorted(lp.polarity for lp in a.loops) == ["B"] * 3 + ["R"] * 5
    assert sorted(len(s) for s in stocks.values()) == [1, 1, 1, 2, 2, 2, 3, 3]
    three = [lp for lp in a.loops if len(stocks[lp.id]) == 3]
    assert all(lp.polarity == "R" for lp in three)
    assert three[0].variables != three[1].variables  # both directions round the triangle
    # Every loop is active, and the long-run growth is the reinforcing loops': together
    # they outweigh the balancing ones once the run settles on its growth mode.
    late = a.times > 50
    reinforcing = sum(lp.relative_score[late] for lp in a.loops if lp.polarity == "R")
    assert reinforcing.min() > 0.5
    assert all(np.abs(lp.relative_score[late]).min() > 0.05 for lp in a.loops)


OSCILLATOR = """
quidpro: 1
name: damped_oscillator
time: {start: 0, stop: 40, dt: 0.01}
constants: {stiffness: 1, damping: 0.1}
stocks:
  position: {initial: 1, inflows: [moving]}
  velocity: {initial: 0, inflows: [accelerating]}
flows:
  moving: velocity
  accelerating: -stiffness * position - damping * velocity
"""


def test_second_order_oscillator(write_model) -> None:
    m = quidpro.load(write_model(OSCILLATOR))
    a = analyse_loops(m)
    major = a.loop("B2")
    minor = a.loop("B1")
    assert minor.variables == ("velocity", "accelerating")
    assert major.variables == ("position", "accelerating", "velocity", "moving")
    # Both link scores into `accelerating` share its change: the major loop's share
    # is k|Δposition| / (k|Δposition| + c|Δvelocity|) at every step.
    df = m.run()
    dpos = np.diff(df["position"].to_numpy())
    dvel = np.diff(df["velocity"].to_numpy())
    expected = np.abs(dpos) / (np.abs(dpos) + 0.1 * np.abs(dvel))
    np.testing.assert_allclose(-major.relative_score[1:], expected, atol=1e-9)
    # The oscillation is the major loop's; the damping loop never takes over for long.
    assert abs(major.mean_relative) > 0.8
    assert all(lp.polarity == "B" for lp in a.loops)


def test_paper_2020_tables_1_and_2_link_scores(write_model) -> None:
    # LTM 2020, Table 1 (z = 2x + y) and Table 2 (z = (w + x) / y), from time 1 to 2.
    text = """
quidpro: 1
name: tables
time: {start: 1, stop: 2, dt: 1}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: z + q
auxiliaries:
  x: if(time < 2, 5, 7)
  y: if(time < 2, 4, 5)
  z: 2 * x + y
  w2: if(time < 2, 7, 10)
  x2: if(time < 2, 2, 4)
  y2: if(time < 2, 3, 5)
  q: (w2 + x2) / y2
"""
    _, ls = link_scores(quidpro.load(write_model(text)))
    assert ls[("x", "z")][1] == pytest.approx(0.8, abs=1e-12)
    assert ls[("y", "z")][1] == pytest.approx(0.2, abs=1e-12)
    assert ls[("w2", "q")][1] == pytest.approx(5.0, abs=1e-12)
    assert ls[("x2", "q")][1] == pytest.approx(10 / 3, abs=1e-12)
    assert ls[("y2", "q")][1] == pytest.approx(-6.0, abs=1e-12)
    assert ls[("x", "z")][0] == 0.0


def test_paper_2023_flow_to_stock_is_aggregation_invariant(write_model) -> None:
    # LTM 2023, Tables 1-3: in 5 -> 10, out 4 -> 5: |Δin/Δnet| = 1.25, |Δout/Δnet| = 0.25,
    # the same whether the flows are separate or one net flow.
    split = """
quidpro: 1
name: split
time: {start: 1, stop: 3, dt: 1}
stocks:
  s: {initial: 100, inflows: [inflow], outflows: [outflow]}
flows:
  inflow: if(time < 2, 5, 10)
  outflow: if(time < 2, 4, 5)
"""
    net = """
quidpro: 1
name: net
time: {start: 1, stop: 3, dt: 1}
stocks:
  s: {initial: 100, inflows: [net_flow]}
flows:
  net_flow: gain - loss
auxiliaries:
  gain: if(time < 2, 5, 10)
  loss: if(time < 2, 4, 5)
"""
    _, a = link_scores(quidpro.load(write_model(split, "split.yaml")))
    _, b = link_scores(quidpro.load(write_model(net, "net.yaml")))
    assert a[("inflow", "s")][1] == pytest.approx(1.25, abs=1e-12)
    assert a[("outflow", "s")][1] == pytest.approx(-0.25, abs=1e-12)
    assert b[("loss", "net_flow")][1] * b[("net_flow", "s")][1] == pytest.approx(-0.25, abs=1e-12)
    assert b[("gain", "net_flow")][1] * b[("net_flow", "s")][1] == pytest.approx(1.25, abs=1e-12)


def test_paper_2020_bass_diffusion_table_3() -> None:
    # LTM 2020, Table 3 (dt = 1/16). Stella labels the step [t, t + dt] with t; quidpro
    # labels it t + dt (the end of the step, as simlin does), so the paper's column T
    # is our T + dt. Values to the paper's three decimals / four significant figures.
    a = analyse_loops(quidpro.load(DATA / "bass.yaml"))
    r1, b1 = a.loop("R1"), a.loop("B1")
    assert "adopters" in r1.variables
    assert "potential_adopters" in b1.variables
    table = {  # T: (B1 score, B1 relative, R1 score, R1 relative)
        9.5: (-9.958, -0.465, 11.46, 0.535),
        9.5625: (-9358, -0.488, 9806, 0.512),
        9.625: (-10.91, -0.512, 10.41, 0.488),
    }
    for t, (b_s, b_r, r_s, r_r) in table.items():
        k = round((t + 0.0625) / 0.0625)
        assert b1.score[k] == pytest.approx(b_s, rel=5e-4)
        assert r1.score[k] == pytest.approx(r_s, rel=5e-4)
        assert b1.relative_score[k] == pytest.approx(b_r, abs=5e-4)
        assert r1.relative_score[k] == pytest.approx(r_r, abs=5e-4)
    k1 = round((1 + 0.0625) / 0.0625)
    assert r1.relative_score[k1] == pytest.approx(1.0, abs=5e-4)
    assert b1.relative_score[-1] == pytest.approx(-1.0, abs=5e-4)


def test_paper_2020_yeast_phases_under_the_2023_correction() -> None:
    # LTM 2020, Table 4: R (births) then B2 (alcohol slows births), B3 (alcohol kills)
    # and B1 (natural deaths) dominate in turn; the paper's boundaries 51.5/66/75 came
    # from the 2020 flow-to-stock score. With the 2023 score (two flows into the cells)
    # the same four phases come out, each boundary a few time units later.
    a = analyse_loops(quidpro.load(DATA / "yeast.yaml"))
    singles = [p for p in a.dominant_periods if len(p.loops) == 1]
    assert [p.loops[0] for p in singles] == ["R1", "B2", "B3", "B1"]
    assert a.loop("B2").variables == ("cells", "production", "alcohol", "births")
    ends = [p.end for p in singles[:3]]
    for ours, paper in zip(ends, (51.5, 66.0, 75.0), strict=True):
        assert paper <= ours <= paper + 5


def test_population_births_and_deaths_shares(write_model) -> None:
    # Schoenberg & Eberlein (2020, "Seamlessly integrating LTM"): births 10%/year,
    # lifetime 20 years: R1 +67%, B1 -33%.
    text = """
quidpro: 1
name: population
time: {start: 0, stop: 10, dt: 0.25}
constants: {birth_rate: 0.1, lifetime: 20}
stocks:
  population: {initial: 100, inflows: [births], outflows: [deaths]}
flows:
  births: population * birth_rate
  deaths: population / lifetime
"""
    a = analyse_loops(quidpro.load(write_model(text)))
    np.testing.assert_allclose(a.loop("R1").relative_score[1:], 2 / 3, atol=1e-9)
    np.testing.assert_allclose(a.loop("B1").relative_score[1:], -1 / 3, atol=1e-9)


SMOOTHED = """
quidpro: 1
name: perceived_gap
time: {start: 0, stop: 30, dt: 0.125}
constants: {goal: 100, adjust: 4, perception: 2}
stocks:
  level: {initial: 10, inflows: [adjusting]}
flows:
  adjusting: (goal - perceived_level) / adjust
auxiliaries:
  perceived_level: smooth3(level, perception)
loops:
  correction:
    variables: [level, perceived_level]
    claim: X1
"""


def test_builtin_stocks_fold_into_their_variable(write_model) -> None:
    m = quidpro.load(write_model(SMOOTHED))
    a = analyse_loops(m)
    # One loop through the three smoothing stages; their own adjustments are not loops
    # of the model.
    assert [lp.variables for lp in a.loops] == [("level", "perceived_level", "adjusting")]
    assert a.searched["internal_dropped"] == 3
    lp = a.loops[0]
    assert (lp.polarity, lp.name, lp.claim) == ("B", "correction", "X1")
    assert a.loop("correction") is lp
    # The expanded stages run to the same numbers as the engine's own smooth3.
    ref = m.run()["perceived_level"].to_numpy()
    from quidpro.analysis.loops_expand import expand
    from quidpro.api import LoadedModel

    ex = expand(m.spec)
    got = LoadedModel(ex.model).run()["perceived_level"].to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_named_loop_errors_point_at_the_file(write_model) -> None:
    text = SMOOTHED.replace("[level, perceived_level]", "[level, no_such_thing]")
    with pytest.raises(ModelError, match="no_such_thing") as err:
        analyse_loops(quidpro.load(write_model(text)))
    assert err.value.loc.line > 0
    bad = SMOOTHED.replace("    claim: X1\n", "    colour: red\n")
    with pytest.raises(ModelError, match="unknown key 'colour'"):
        quidpro.load(write_model(bad))


def test_relative_scores_and_dominance_by_partition() -> None:
    scores = np.array([[3.0, 0.0], [-1.0, 0.0], [5.0, 2.0]])
    parts = np.array([0, 0, 1])
    rel = relative_scores(scores, parts)
    np.testing.assert_allclose(rel, [[0.75, 0.0], [-0.25, 0.0], [1.0, 1.0]])
    mask = dominant_mask(rel, parts)
    assert mask.tolist() == [[True, False], [False, False], [True, True]]
    # Two loops at 0.4 and 0.35: it takes both to explain half.
    rel2 = np.array([[0.4], [-0.35], [0.25]])
    assert dominant_mask(rel2, np.zeros(3, int))[:, 0].tolist() == [True, True, False]


def test_ensemble_gives_probability_of_dominance(write_model) -> None:
    text = LOGISTIC.format(dt=0.5, p0=10).replace(
        "constants: {growth_rate: 0.1, capacity: 1000}",
        "constants:\n  growth_rate: {value: 0.1, distribution: "
        "{kind: uniform, low: 0.05, high: 0.2}}\n  capacity: 1000",
    )
    a = analyse_loops(quidpro.load(write_model(text)), runs=200, seed=3)
    r1, b1 = a.loop("R1"), a.loop("B1")
    assert r1.p_dominant is not None
    assert b1.p_dominant is not None
    assert r1.p_dominant[1] == 1.0
    assert b1.p_dominant[-1] == 1.0
    # Exactly one loop dominates each member at each time after the start.
    np.testing.assert_allclose(r1.p_dominant[1:] + b1.p_dominant[1:], 1.0)
    mid = np.flatnonzero((r1.p_dominant > 0.05) & (r1.p_dominant < 0.95))
    assert len(mid) > 5  # growth rates differ, so members cross K/2 at different times


def test_bounded_search_past_the_budget(write_model) -> None:
    # With a budget of 3 the arms race (8 loops) goes to the strongest-path search: what
    # it finds are real loops of the model, it says the enumeration was cut, and the
    # loops it keeps explain the behaviour (their shares still add up to one).
    m = quidpro.load(write_model(ARMS))
    full = analyse_loops(m)
    a = analyse_loops(m, budget=3)
    assert a.searched["cut"]
    assert "strongest path" in a.searched["method"]
    every = {lp.variables for lp in full.loops}
    assert a.loops
    assert {lp.variables for lp in a.loops} <= every
    total = sum(np.abs(lp.relative_score) for lp in a.loops)
    np.testing.assert_allclose(total[1:], 1.0, atol=1e-9)


TANK = """
quidpro: 1
name: tank
time: {start: 0, stop: 10, dt: 0.5}
constants:
  rate: {value: 2, distribution: {kind: uniform, low: 1, high: 3}}
stocks:
  water: {initial: 0, inflows: [filling]}
flows:
  filling: rate
"""


@pytest.mark.parametrize("runs", [1, 5])
def test_model_without_feedback_loops_gives_an_empty_analysis(write_model, runs: int) -> None:
    m = quidpro.load(write_model(TANK))
    a = analyse_loops(m, runs=runs, seed=1)
    assert a.loops == []
    assert a.dominant_periods == []
    assert a.searched["loops"] == 0
    assert len(a.times) == 21
    assert a.basis == (None if runs == 1 else "prior")


def _kernel_members(monkeypatch, module) -> dict[int, dict[str, float]]:
    """Spy on ``module.simulate``: the constants each member was run with, by member."""
    seen: dict[int, dict[str, float]] = {}
    real = module.simulate

    def spy(compiled, overrides=None, n_runs=1, *args, **kwargs):
        offset = kwargs.get("member_offset", 0)
        for i in range(n_runs):
            seen[offset + i] = {
                k: float(np.asarray(v)[i] if np.ndim(v) else v) for k, v in overrides.items()
            }
        return real(compiled, overrides, n_runs, *args, **kwargs)

    monkeypatch.setattr(module, "simulate", spy)
    return seen


@pytest.mark.parametrize("use_posterior", [True, False])
@pytest.mark.parametrize("sets", [{}, {"capacity": 900.0}])
def test_members_are_the_ensembles_for_the_same_seed(
    write_model, tmp_path, monkeypatch, use_posterior: bool, sets: dict[str, float]
) -> None:
    # The loop analysis runs the very members quidpro.ensemble runs for the same seed:
    # the constants each kernel call receives, member by member, are equal.
    from quidpro.analysis import loops as loops_mod
    from quidpro.ensemble import ensemble, runner
    from quidpro.ensemble.posterior import PosteriorTable, read_posterior, write_posterior

    text = LOGISTIC.format(dt=0.5, p0=10).replace(
        "constants: {growth_rate: 0.1, capacity: 1000}",
        "constants:\n  growth_rate: {value: 0.1, distribution: "
        "{kind: uniform, low: 0.05, high: 0.2}}\n  capacity: {value: 1000, distribution: "
        "{kind: normal, mean: 1000, sd: 100}}",
    )
    m = quidpro.load(write_model(text))
    table = None
    if use_posterior:
        draws = np.array([[0.07], [0.11], [0.13], [0.17], [0.19]])
        write_posterior(PosteriorTable(("growth_rate",), draws), tmp_path / "post.parquet")
        table = read_posterior(tmp_path / "post.parquet", m.spec)
    n, seed = 40, 11
    by_loops = _kernel_members(monkeypatch, loops_mod)
    a = analyse_loops(m, runs=n, seed=seed, sets=sets, posterior=table)
    by_ensemble = _kernel_members(monkeypatch, runner)
    ensemble(m, n, seed, sets=sets, posterior=table, batch_size=7)
    assert a.basis == ("posterior" if use_posterior else "prior")
    assert sorted(by_ensemble) == list(range(n))
    # The loop analysis also runs its base run (member 0 at the model's values) first;
    # its ensemble's calls overwrite it.
    assert sorted(by_loops) == list(range(n))
    for i in range(n):
        assert by_loops[i] == by_ensemble[i], i
    growth = np.array([by_loops[i]["growth_rate"] for i in range(n)])
    capacity = np.array([by_loops[i].get("capacity", 1000.0) for i in range(n)])
    if use_posterior:  # rows of the table; capacity (not in it) keeps its value
        assert set(growth) <= {0.07, 0.11, 0.13, 0.17, 0.19}
        assert len(set(growth)) > 2
        np.testing.assert_array_equal(capacity, sets.get("capacity", 1000.0))
    else:
        assert len(set(growth)) == n
        if sets:
            np.testing.assert_array_equal(capacity, 900.0)
        else:
            assert len(set(capacity)) == n


@pytest.mark.parametrize("backend", ["numpy", "jit"])
@pytest.mark.parametrize(("save_every", "budget"), [(None, 20000), (1.0, 20000), (None, 3)])
def test_numba_counts_equal_the_numpy_path(
    write_model, monkeypatch, save_every, budget, backend
) -> None:
    # With numba the ensemble's dominance is counted from the recorded series
    # (loops_jit: a step at a time from NumPy's kernel, a member at a time from numba's);
    # without, through arrays of every link score. Both give the same shares, also
    # when only every fourth step is saved, and for the loops of the bounded search.
    pytest.importorskip("numba")
    from quidpro.analysis import loops as loops_mod

    text = ARMS.replace(
        "constants: {adjust: 5}",
        "constants:\n  adjust: {value: 5, distribution: {kind: uniform, low: 2, high: 9}}",
    )
    if save_every is not None:
        text = text.replace("dt: 0.25}", f"dt: 0.25, save_every: {save_every}}}")
    m = quidpro.load(write_model(text))
    fast = analyse_loops(m, runs=60, seed=5, budget=budget, backend=backend)
    monkeypatch.setattr(loops_mod, "_jit", lambda: None)
    slow = analyse_loops(m, runs=60, seed=5, budget=budget, backend=backend)
    assert [lp.id for lp in fast.loops] == [lp.id for lp in slow.loops]
    assert fast.searched["cut"] == (budget == 3)
    assert len(fast.loops) > 2
    shares = np.array([lp.p_dominant for lp in fast.loops])
    np.testing.assert_array_equal(shares, [lp.p_dominant for lp in slow.loops])
    assert len(np.unique(shares)) > 3  # members differ in which loops dominate


@pytest.mark.parametrize(("save_every", "budget"), [(None, 20000), (1.0, 20000), (None, 3)])
@pytest.mark.parametrize("backend", ["jit", "vm"])
def test_one_run_on_a_compiled_backend_reports_the_numpy_reductions_floats(
    write_model, monkeypatch, save_every, budget, backend
) -> None:
    # On the compiled backends the base run's loop scores are reduced by numba's pass
    # (loops_jit_single), a block of saved times at a time; without numba's loops, by
    # arrays of every loop's score. Same run, same report, every number the same float:
    # also when every fourth step is saved and for the loops of the bounded search.
    pytest.importorskip("numba")
    from quidpro.analysis import loops as loops_mod

    text = ARMS
    if save_every is not None:
        text = text.replace("dt: 0.25}", f"dt: 0.25, save_every: {save_every}}}")
    m = quidpro.load(write_model(text))
    calls: list[int] = []
    compiled = loops_mod._compiled_base
    monkeypatch.setattr(loops_mod, "_compiled_base", lambda *a: calls.append(1) or compiled(*a))
    fast = analyse_loops(m, budget=budget, backend=backend)
    assert calls  # numba's pass made this report
    monkeypatch.setattr(loops_mod, "_jit", lambda: None)
    slow = analyse_loops(m, budget=budget, backend=backend)
    assert len(calls) == 1
    assert len(fast.loops) > 2
    assert fast.searched == slow.searched
    assert fast.dominant_periods == slow.dominant_periods
    np.testing.assert_array_equal(fast.times, slow.times)
    for a, b in zip(fast.loops, slow.loops, strict=True):
        assert (a.id, a.polarity, a.variables, a.signs) == (b.id, b.polarity, b.variables, b.signs)
        np.testing.assert_array_equal(a.relative_score, b.relative_score)
        np.testing.assert_array_equal(a.score, b.score)
        assert (a.mean_relative, a.peak_relative) == (b.mean_relative, b.peak_relative)


class _Rows:
    """Members given as arrays of constant values (the sample interface _ensemble reads)."""

    def __init__(self, rows: dict[str, np.ndarray]) -> None:
        self.values = rows
        self.n = len(next(iter(rows.values())))

    def rows(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        return {k: v[lo:hi] for k, v in self.values.items()}


def _canonical(cycle: tuple[str, ...]) -> tuple[str, ...]:
    k = cycle.index(min(cycle))
    return cycle[k:] + cycle[:k]


@pytest.mark.parametrize(
    ("counting", "backend"), [("numba", "numpy"), ("numba", "jit"), ("numpy", "numpy")]
)
def test_members_whose_run_fails_are_left_out_of_p_dominant(
    write_model, monkeypatch, counting: str, backend: str
) -> None:
    # Members with adjust > 8 go non-finite in an auxiliary outside every loop: their
    # loops behave as the others', but like quidpro ensemble the shares leave them out.
    # The shares equal those of the same members, minus the failed, on the model
    # without that auxiliary; the failures are counted.
    from quidpro.analysis import loops as loops_mod

    if counting == "numba":
        pytest.importorskip("numba")
    else:
        monkeypatch.setattr(loops_mod, "_jit", lambda: None)
    text = ARMS.replace(
        "constants: {adjust: 5}",
        "constants:\n  adjust: {value: 5, distribution: {kind: uniform, low: 2, high: 9}}",
    )
    clean = quidpro.load(write_model(text, "clean.yaml")).spec
    broken_text = text.rstrip() + "\n  trouble: if(adjust > 8, ln(0 - adjust), 0)\n"
    broken = quidpro.load(write_model(broken_text, "broken.yaml")).spec
    rows = loops_mod.members(broken, 80, 3).rows(0, 80)
    ok = rows["adjust"] <= 8
    assert 0 < ok.sum() < 80
    shares = []
    for spec, sample in ((broken, _Rows(rows)), (clean, _Rows({"adjust": rows["adjust"][ok]}))):
        setup = loops_mod._Setup(spec, 20000, {})
        keep = list(range(len(setup.cycles)))
        got, failed = loops_mod._ensemble(
            setup, sample, overrides={}, keep=keep, backend=backend, progress=None
        )
        assert failed == (80 - ok.sum() if spec is broken else 0)
        shares.append({_canonical(setup.cycles[k]): got[i] for i, k in enumerate(keep)})
    a, b = shares
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[c], b[c]) for c in a)
    assert any(a[c].max() > 0 for c in a)
    analysis = analyse_loops(quidpro.load(write_model(broken_text, "b2.yaml")), runs=80, seed=3)
    assert analysis.failed == 80 - ok.sum()
