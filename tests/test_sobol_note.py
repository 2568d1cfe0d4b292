"""Negative Sobol estimates are explained where shown (issue 8)."""

from __future__ import annotations

from quidpro.analysis.sensitivity import negative_note


def test_no_note_without_negative_estimates_or_for_morris() -> None:
    doc = {"method": "sobol", "S1": {"a": 0.2}, "ST": {"a": 0.3}, "S1_conf": {"a": 0.1},
           "ST_conf": {"a": 0.1}}  # fmt: skip
    assert negative_note(doc) is None
    assert negative_note({"method": "morris", "mu_star": {"a": -1.0}}) is None


def test_note_counts_negatives_and_those_whose_interval_reaches_zero() -> None:
    doc = {
        "method": "sobol",
        "S1": {"a": -0.02, "b": -0.3, "c": 0.4},
        "S1_conf": {"a": 0.05, "b": 0.1, "c": 0.1},
        "ST": {"a": 0.01, "b": 0.2, "c": 0.5},
        "ST_conf": {"a": 0.02, "b": 0.1, "c": 0.1},
    }
    note = negative_note(doc)
    assert note is not None
    assert note.startswith("2 Sobol estimate(s) are negative")
    assert "1 of them have a 95% interval" in note
    assert "need more --runs" in note
    doc["S1_conf"]["b"] = 0.5
    note = negative_note(doc)
    assert note is not None
    assert "2 of them" in note
    assert "more --runs" not in note
