"""Write results tables: CSV (full precision, round-trips exactly) or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``time,<variable>,...``, one row per saved step, to CSV or Parquet.

    Where the run has calendar dates (``df.attrs["dates"]``, a model with
    ``time.origin``), a last column ``date`` holds each row's date (ISO, to the second
    when it is not midnight).

    Args:
        df: A run's table, indexed by time.
        path: ``FILE.csv`` or ``FILE.parquet``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.copy()
    dates = df.attrs.get("dates")
    out.attrs = {}
    if dates is not None and "date" not in out.columns:
        stamps = pd.DatetimeIndex(dates)
        out["date"] = [
            d.date().isoformat() if d == d.normalize() else d.isoformat() for d in stamps
        ]
    if path.suffix.lower() == ".parquet":
        out.reset_index().to_parquet(path, index=False)
    else:
        out.to_csv(path, float_format=None)
