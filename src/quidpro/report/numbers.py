"""One number-format policy for every reader: terminal tables, the web page, the brief.

The rules (the page's ``static/numbers.js`` implements the same ones, and a browser
test holds the two to the same outputs):

- significant digits, not decimals: ``34,110.7`` → ``34,110`` (4 digits), ``0.12345``
  → ``0.1235``; trailing zeros go (``0.5``, never ``0.5000``);
- thousands separators on every number of four digits or more (``9,868``, ``2,790,000``);
- zero is ``0``: a value below ``zero`` in magnitude (default ``1e-9`` of ``scale``) is
  rounding noise of a stock that drained, so ``2.693e-61`` reads ``0``;
- scientific notation only beyond the ranges people read: below ``1e-4`` or from
  ``1e15`` up, written ``1.2e-07`` style;
- ``compact=True`` spells millions, billions and trillions (``2.79 billion``) for prose;
- missing values (``None``, NaN) read ``n/a``; infinities ``∞`` and ``-∞``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

SIGNIFICANT = 4
ZERO = 1e-9
MISSING = "n/a"
_WORDS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def fmt_number(  # noqa: PLR0911 - one return per rule of the policy, in order
    x: float | None,
    sig: int = SIGNIFICANT,
    *,
    scale: float = 1.0,
    zero: float = ZERO,
    compact: bool = False,
) -> str:
    """``x`` as text by the policy above.

    Args:
        x: the value (``None`` and NaN are missing).
        sig: significant digits kept (at least 1).
        scale: the typical magnitude of the values shown beside ``x`` (a column's
            largest absolute value); values below ``zero * scale`` read ``0``.
        zero: the relative size below which a value is zero.
        compact: words for millions and up (``2.79 billion``), for running text.
    """
    if x is None:
        return MISSING
    x = float(x)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    sig = max(1, int(sig))
    if abs(x) < zero * max(abs(scale), 1e-300) or x == 0:
        return "0"
    r = float(f"{x:.{sig}g}")  # rounded to sig digits
    if math.isinf(r):  # rounding up past the largest float
        r = x
    a = abs(r)
    if compact:
        for size, word in _WORDS:
            if a >= size and a < 1e15:
                return f"{fmt_number(r / size, sig)} {word}"
    if a < 1e-4 or a >= 1e15:
        mantissa, _, exponent = f"{r:.{sig - 1}e}".partition("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{exponent}"
    exp10 = math.floor(math.log10(a))
    decimals = max(0, sig - 1 - exp10)
    text = f"{r:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_column(values: Iterable[float | None], sig: int = SIGNIFICANT) -> list[str]:
    """A column of numbers, zero judged against the column's largest magnitude."""
    vals = list(values)
    finite = [abs(float(v)) for v in vals if v is not None and math.isfinite(float(v))]
    scale = max(finite, default=1.0) or 1.0
    return [fmt_number(v, sig, scale=scale) for v in vals]


def fmt_percent(p: float | None, digits: int = 0) -> str:
    """A probability as a percentage: ``0.873`` → ``87%``.

    Never ``0%`` or ``100%`` for an estimate that is merely close (``<1%``, ``>99%``).
    """
    if p is None or math.isnan(float(p)):
        return MISSING
    pct = 100.0 * float(p)
    if pct in {0.0, 100.0}:
        return f"{pct:.0f}%"
    step = 10.0**-digits
    if pct < step:
        return f"<{step:g}%"
    if pct > 100.0 - step:
        return f">{100.0 - step:g}%"
    return f"{pct:.{digits}f}%"


def fmt_interval(lo: float | None, hi: float | None, *, percent: bool = False) -> str:
    """An interval ``lo–hi`` (an en dash) in the same policy as its ends."""
    if percent:
        return f"{fmt_percent(lo)}–{fmt_percent(hi)}"
    scale = max(abs(v) for v in (lo or 0.0, hi or 0.0)) or 1.0
    return f"{fmt_number(lo, scale=scale)}–{fmt_number(hi, scale=scale)}"


def fmt_table(rows: Sequence[Sequence[float | None]], sig: int = SIGNIFICANT) -> list[list[str]]:
    """Rows of numbers formatted column by column (each column its own zero scale)."""
    if not rows:
        return []
    cols = [fmt_column([r[j] for r in rows], sig) for j in range(len(rows[0]))]
    return [[cols[j][i] for j in range(len(cols))] for i in range(len(rows))]
