"""Figures whose text comes from model files: drawn as written, saved the one way.

Model text (names, units, titles, docs) may hold ``$x^{$`` (which matplotlib would
read as mathtext, and fail on) or control characters (a missing-glyph warning, or
worse). :func:`save_figure` is how every plot of quidpro is written: mathtext off for
every text of the figure, control characters shown as hex escapes (:func:`plain`).
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FuncFormatter

from quidpro.lang.display import plain

#: Model text (names, units, titles) is drawn as written: ``$x^{$`` is not mathtext.
PLAIN_TEXT: Any = {"text.parse_math": False, "text.usetex": False}


def plain_figure(fig: Any) -> None:
    """Make every text of ``fig`` plain: no mathtext, control characters escaped.

    Covers titles, labels, legends and annotations, and tick labels given as text
    (variable names on a categorical axis), which matplotlib sets at draw time.
    """
    for text in fig.findobj(Text):
        text.set_parse_math(False)
        shown = text.get_text()
        if plain(shown) != shown:
            text.set_text(plain(shown))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
                if isinstance(formatter, FixedFormatter):
                    formatter.seq = [plain(s) for s in formatter.seq]
                elif isinstance(formatter, FuncFormatter):  # set_ticks(labels=...) makes one
                    formatter.func = _plain_func(formatter.func)


def _plain_func(func: Callable[..., Any]) -> Callable[..., str]:
    def shown(x: float, pos: int | None = None) -> str:
        return plain(func(x, pos))

    return shown


def save_figure(fig: Any, target: str | Path | BytesIO, **options: Any) -> None:
    """``fig.savefig(target, **options)`` with every text plain (:func:`plain_figure`)."""
    plain_figure(fig)
    with matplotlib.rc_context(PLAIN_TEXT):  # ticks made while drawing are plain too
        fig.savefig(target, **options)
