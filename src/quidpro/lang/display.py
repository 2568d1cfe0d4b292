"""Text from model files as it may be shown: control characters made visible.

Names, units, docs and titles come from files someone else may have written, so they
may hold terminal escape sequences (ESC ``]0;...`` BEL) or other control characters.
Every place that shows such text (the terminal, plots) passes it through
:func:`plain` first.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    r"""``text`` with control characters (terminal escape sequences) shown as hex escapes.

    Tabs and newlines are kept; ESC (code 27) becomes the four characters ``\x1b``.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
