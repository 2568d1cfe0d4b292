"""Write results tables: CSV (full precision, round-trips exactly) or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(df: pd.DataFrame, path: Path) -> None:
    """``time,<variable>,...``: one row per saved step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.copy()
    out.attrs = {}
    if path.suffix.lower() == ".parquet":
        out.reset_index().to_parquet(path, index=False)
    else:
        out.to_csv(path, float_format=None)
