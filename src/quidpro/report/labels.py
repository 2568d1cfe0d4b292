"""Plain-language labels, and the dated things of a model, for the page, brief and plots.

- A *date lever* is a constant in the model's time units whose range reaches past the
  end of the run, so that "never" is one of its values (the flagship's ceasefire and
  red-line switches: 9999 = never).
- A *dated event* is a constant named ``*_time`` in the model's time units whose value
  falls inside the run (the Hanoi summit, the invasion): drawn as a line on charts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from quidpro.model.spec import Constant, Model

# Abbreviations kept in capitals in labels (country and organisation codes, units).
UPPER = {"nk", "ru", "us", "sk", "un", "unsc", "usd", "icbm", "slbm", "poe", "gdp", "eu"}


def plain_label(name: str) -> str:
    """A short label for a name: ``nk_shell_stockpile`` → ``NK shell stockpile``."""
    words = name.replace("[", " ").replace("]", "").replace(",", " ").split("_")
    out = [w.upper() if w.lower() in UPPER else w for w in words if w]
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def label_of(model: Model | None, name: str) -> str:
    """A variable's ``label`` from the model file, else :func:`plain_label` of its name.

    A ``*_time`` constant without a label is named for its event (``ceasefire_time`` →
    ``Ceasefire``).
    """
    if model is not None:
        for table in (model.constants, model.stocks, model.flows, model.auxiliaries):
            item = table.get(name)
            if item is not None and item.label:
                return str(item.label)
        if name in model.constants and name.endswith("_time"):
            return plain_label(name.removesuffix("_time"))
    return plain_label(name)


def first_sentence(doc: str | None, limit: int = 160) -> str:
    """The first sentence of a ``doc`` string (for tooltips and the assumptions register)."""
    if not doc:
        return ""
    text = " ".join(doc.split())
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = m.group(1) if m else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _in_time_units(model: Model, c: Constant) -> bool:
    units = (c.units or "").strip().lower()
    time_units = (model.time.units or "").strip().lower()
    return bool(units) and units in (time_units, time_units + "s")


def date_levers(model: Model) -> list[str]:
    """Constants that switch something on at a date, with "never" beyond the run."""
    out = []
    for name, c in model.constants.items():
        if c.expr is not None or not _in_time_units(model, c) or c.distribution is not None:
            continue
        if c.range is not None and c.range[1] > model.time.stop:
            out.append(name)
    return out


def dated_events(model: Model) -> list[dict[str, Any]]:
    """``*_time`` constants whose value falls inside the run: ``{"name", "time", "label"}``."""
    levers = set(date_levers(model))
    out = []
    for name, c in model.constants.items():
        if name in levers or not name.endswith("_time") or not _in_time_units(model, c):
            continue
        if model.time.start <= c.value <= model.time.stop:
            label = label_of(model, name)
            out.append({"name": name, "time": float(c.value), "label": label})
    return out


#: Characters of vertical 6-point text that fit the height of a plot's panel.
LABEL_CHARS = 40
T = TypeVar("T")


def merge_close(
    marks: Sequence[tuple[T, str]], close: Callable[[T, T], bool], most: int | None = None
) -> list[tuple[T, str]]:
    """Labels of marks on a time axis, those ``close`` to a group's first mark merged.

    Vertical labels hung from a panel's top print over each other when their marks are
    nearer than a label's height (about 3% of a panel 4 to 7 inches wide), and run out
    of the panel when longer than :data:`LABEL_CHARS`. A merged label joins its parts
    with " / " in lines of at most that many characters; with ``most``, it names that
    many parts and counts the rest ("OBS0131 / OBS0132 +7").
    """
    groups: list[tuple[T, list[str]]] = []
    for at, label in sorted(marks, key=lambda m: m[0]):  # type: ignore[arg-type, return-value]
        if groups and close(groups[-1][0], at):  # near the group's first mark
            groups[-1][1].append(label)
        else:
            groups.append((at, [label]))
    return [(at, _joined(parts, most)) for at, parts in groups]


def _joined(parts: list[str], most: int | None) -> str:
    shown = parts if most is None or len(parts) <= most else parts[:most]
    lines: list[str] = []
    for part in shown:
        if lines and len(lines[-1]) + 3 + len(part) <= LABEL_CHARS:
            lines[-1] = f"{lines[-1]} / {part}"
        else:
            lines.append(part)
    if len(shown) < len(parts):
        lines[-1] += f" +{len(parts) - len(shown)}"
    return "\n".join(lines)
