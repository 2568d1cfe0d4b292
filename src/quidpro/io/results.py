"""Results as tables: files, and the frames the run store keeps.

Files are CSV (full precision, round-trips exactly) or Parquet; the frames are long
forms of ensembles, comparisons and sensitivity analyses.

Formula injection: a spreadsheet runs a cell that starts with ``= + - @`` (or a tab or
carriage return) as a formula, and model names from XMILE files can be any text
(``=HYPERLINK(...)``). Every header and text cell written to a file goes through
:func:`spreadsheet_safe`, which prefixes such text with a single quote (the OWASP
advice); numbers are never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by each function: ``quidpro run`` needs only end_values
    import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """``text``, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose headers, index name and text cells are :func:`safe_text`."""
    import pandas as pd

    out = df.copy()
    out.attrs = {}
    out.columns = [safe_text(c) if isinstance(c, str) else c for c in out.columns]
    if isinstance(out.index.name, str):
        out.index.name = safe_text(out.index.name)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [safe_text(v) if isinstance(v, str) else v for v in out[col]]
    return out


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``time,<variable>,...``, one row per saved step, to CSV or Parquet.

    Where the run has calendar dates (``df.attrs["dates"]``, a model with
    ``time.origin``), a last column ``date`` holds each row's date (ISO, to the second
    when it is not midnight). Headers and text cells are :func:`spreadsheet_safe`.

    Args:
        df: A run's table, indexed by time.
        path: ``FILE.csv`` or ``FILE.parquet``.
    """
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.copy()
    dates = df.attrs.get("dates")
    out.attrs = {}
    if dates is not None and "date" not in out.columns:
        stamps = pd.DatetimeIndex(dates)
        out["date"] = [
            d.date().isoformat() if d == d.normalize() else d.isoformat() for d in stamps
        ]
    out = spreadsheet_safe(out)
    if path.suffix.lower() == ".parquet":
        out.reset_index().to_parquet(path, index=False)
    else:
        out.to_csv(path, float_format=None)


def end_values(names: Sequence[str], last: Iterable[float], most: int = 50) -> dict[str, float]:
    """The last value (``last``, a run's last row) of (up to ``most``) variables ``names``."""
    return {c: float(x) for c, x in zip(names[:most], last, strict=False)}


def quantile_frame(variables: Mapping[str, Any], scenario: str | None = None) -> pd.DataFrame:
    """An ensemble summary's quantile series in long form, one row per value.

    The columns are ``scenario, variable, time, quantile, value``.
    """
    import pandas as pd

    rows = []
    for name, s in variables.items():
        for q, series in s["quantiles"].items():
            for t, v in zip(s["time"], series, strict=True):
                rows.append((scenario or "baseline", name, t, float(q), v))
    return pd.DataFrame(rows, columns=["scenario", "variable", "time", "quantile", "value"])


def scenarios_frame(bands: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """:func:`quantile_frame` of every scenario of a comparison, stacked."""
    import pandas as pd

    return pd.concat([quantile_frame(v, s) for s, v in bands.items()], ignore_index=True)


def indices_frame(doc: Mapping[str, Any]) -> pd.DataFrame:
    """A sensitivity analysis's indices: one row per constant, one column per index."""
    import pandas as pd

    keys = [k for k in ("S1", "ST", "S1_conf", "ST_conf", "mu_star", "sigma") if k in doc]
    columns: dict[str, list[Any]] = {"constant": list(doc[keys[0]])}
    columns.update({k: list(doc[k].values()) for k in keys})
    return pd.DataFrame(columns)
