"""``model.run()``: the DataFrame of one run, built cheaply and owned by its caller."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import quidpro

MODEL = Path(__file__).parent / "models" / "decay.yaml"


def test_the_frame_holds_the_runs_values_times_and_names() -> None:
    m = quidpro.load(MODEL)
    df = m.run(backend="numpy")
    traj = m.simulate(backend="numpy")
    assert list(df.columns) == list(traj.names)
    assert df.index.name == "time"
    np.testing.assert_array_equal(df.index.to_numpy(), traj.times)
    np.testing.assert_array_equal(df.to_numpy(), traj.values[:, :, 0])
    assert df.columns.dtype == "str"  # pandas' string columns, as a frame built by hand


def test_two_runs_share_neither_values_nor_columns() -> None:
    m = quidpro.load(MODEL)
    a, b = m.run(backend="numpy"), m.run(backend="numpy")
    assert a.columns is not b.columns
    a.columns.name = "variable"
    a.iloc[0, 0] = -1.0
    assert b.columns.name is None
    assert b.iloc[0, 0] != -1.0
    assert not np.shares_memory(a.to_numpy(), b.to_numpy())
    c = m.run(backend="numpy")
    assert c.columns.name is None  # nor does a later run see the rename
    assert list(c.columns) == list(b.columns)
