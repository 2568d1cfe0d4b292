"""Plain-language labels for names and docs, shared by the page, the brief and the plots."""

from __future__ import annotations

import re

# Abbreviations kept in capitals in labels (country and organisation codes, units).
UPPER = {"nk", "ru", "us", "sk", "un", "unsc", "usd", "icbm", "slbm", "poe", "gdp", "eu"}


def plain_label(name: str) -> str:
    """A short label for a name: ``nk_shell_stockpile`` → ``NK shell stockpile``."""
    words = name.replace("[", " ").replace("]", "").replace(",", " ").split("_")
    out = [w.upper() if w.lower() in UPPER else w for w in words if w]
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def first_sentence(doc: str | None, limit: int = 160) -> str:
    """The first sentence of a ``doc`` string (for tooltips and the assumptions register)."""
    if not doc:
        return ""
    text = " ".join(doc.split())
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = m.group(1) if m else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
