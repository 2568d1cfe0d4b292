"""JSON as the standard has it: a number that is not finite is written as null.

A probability or a quantile over members none of which ran to the end is NaN, and
Python's ``json`` would write the token ``NaN``, which no strict JSON reader accepts.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (JSON's null)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_none(v) for v in obj]
    return obj


def json_text(doc: Any, indent: int | None = None) -> str:
    """``doc`` as strict JSON: non-finite numbers written as null, never ``NaN``."""
    try:  # the usual document has none: no copy
        return json.dumps(doc, indent=indent, allow_nan=False)
    except ValueError:
        return json.dumps(finite_or_none(doc), indent=indent, allow_nan=False)


__all__ = ["finite_or_none", "json_text"]
