"""The one "did you mean" helper behind every hint for a misspelt name, key or option."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

CUTOFF = 0.6
"""How alike a word and a suggestion must be (difflib's ratio; 0.6 is its default)."""


def closest(word: str, options: Iterable[str], cutoff: float = CUTOFF) -> str | None:
    """The option most like ``word``, or None when none is alike enough.

    Args:
        word: The misspelt text.
        options: The names that exist.
        cutoff: How alike they must be (0 to 1; :data:`CUTOFF` by default).

    Returns:
        The option that differs from ``word`` only in case (``STEP`` -> ``step``,
        ``Time`` -> ``time``), else the best match by :class:`difflib.SequenceMatcher`
        ratio; ties go to the greater string, so the answer does not depend on the
        order of ``options``.
    """
    ordered = sorted(set(options))
    same_letters = [o for o in ordered if o.lower() == word.lower() and o != word]
    if same_letters:
        return same_letters[-1]
    close = difflib.get_close_matches(word, ordered, n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(
    word: str, options: Iterable[str], display: Callable[[str], str] | None = None
) -> str:
    """A hint to append to an error message: `` (did you mean 'x'?)`` or ``""``.

    Args:
        word: The misspelt text.
        options: The names that exist.
        display: How to spell the suggestion (for example ``str.upper`` for XMILE
            function names); as it is by default.

    Returns:
        The hint, with a leading space, or an empty string when nothing is close.
    """
    match = closest(word, options)
    if match is None:
        return ""
    return f" (did you mean {(display or str)(match)!r}?)"
