"""A small model with known constants and evidence generated from it (for the
calibration, back-test and evidence tests)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

TRUE = {"r": 0.12, "cap": 1200.0}
SYN = """quidpro: 1
name: syn
time: {start: 0, stop: 48, dt: 1, units: month, origin: 2020-01-01}
constants:
  r: {value: 0.15, units: 1/month, distribution: {kind: lognormal, mu: -2.0, sigma: 0.5}}
  cap: {value: 1000, units: people, distribution: {kind: uniform, low: 500, high: 2000}}
  switch_time:
    {value: 9999, units: month, lever: true, distribution: {kind: uniform, low: 0, high: 9999}}
stocks:
  pop: {initial: 10, inflows: [growth], units: people}
flows:
  growth: r * pop * (1 - pop / cap) * if(time >= switch_time, 0, 1)
auxiliaries:
  per_year: growth * 12
observations:
  population: {expression: pop, error: {kind: lognormal, sd: 0.1}}
  growth_per_year: {expression: per_year, error: {kind: normal, sd: 200}, period: year}
"""
HEADER = ["id", "date", "indicator", "value", "kind", "confidence", "source_title"]


def write_syn(folder: Path, noise: float = 0.1, seed: int = 1) -> tuple[Path, Path]:
    """The model file and a ledger of noisy observations of ``pop`` from the true
    constants (every six months, 2020-07 to 2023-07) plus a bound and an event."""
    import quidpro

    model = folder / "syn.yaml"
    model.write_text(SYN)
    m = quidpro.load(model)
    df = m.run(set=TRUE)
    dates = m.dates(df.index)
    rng = np.random.default_rng(seed)
    rows = []
    for t, d in zip(df.index, dates, strict=True):
        if 0 < t < 46 and t % 6 == 0:
            value = float(df["pop"].loc[t]) * float(np.exp(rng.normal(0.0, noise)))
            rows.append([f"P{int(t):02d}", f"{d:%Y-%m-%d}", "population", repr(value)])
            rows[-1] += ["cumulative", "high", "synthetic"]
    rows.append(["B1", "2022-06-01", "population", "50", "estimate_low", "medium", "synthetic"])
    rows.append(["E1", "2021-03-01", "switch", "", "event", "high", "synthetic"])
    ledger = folder / "syn.csv"
    write_ledger(ledger, rows)
    return model, ledger


def write_ledger(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path
