"""The unit check's result, kept on disk beside the JIT kernels, so a run skips pint.

Checking units imports pint (about a third of a second, more than most runs take).
``quidpro run`` only warns about units, and the same file gives the same warnings,
so the problems found are written to ``<cache>/units/<key>.json`` (``<cache>`` is
``$QUIDPRO_CACHE`` or the user cache folder, as for the kernels). The key is the
SHA-256 of the file's text and path, quidpro's version and the source of the
checker and of the modules that word its messages: any edit of the file (or of
the checker) checks again. A cache that cannot be read or written is no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from quidpro.cache import cache_root
from quidpro.errors import Loc, UnitError
from quidpro.model.check import unit_errors
from quidpro.model.spec import Model
from quidpro.version import __version__

_PACKAGE = Path(__file__).resolve().parents[1]
# The checker and what shapes its messages: a change to any of them is a new key.
_CHECKER = ("model/units.py", "lang/format.py", "lang/suggest.py", "errors.py")


def cache_folder() -> Path:
    """``<cache>/units``: ``$QUIDPRO_CACHE`` or the user cache folder of quidpro."""
    return cache_root() / "units"


def cache_key(model: Model, source: str) -> str:
    """The key of a model read from ``source`` (its file's text)."""
    h = hashlib.sha256()
    for part in (__version__, model.file, source):
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for rel in _CHECKER:
        h.update((_PACKAGE / rel).read_bytes() + b"\0")
    return h.hexdigest()


def cached_unit_errors(model: Model, source: str | None) -> list[UnitError]:
    """:func:`~quidpro.model.check.unit_errors`, cached by the file's text ``source``.

    With ``source`` None (a model not read from a file) the check runs every time.
    """
    if source is None:
        return unit_errors(model)
    path = cache_folder() / f"{cache_key(model, source)}.json"
    found = _read(path)
    if found is not None:
        return found
    problems = unit_errors(model)
    _write(path, problems)
    return problems


def _read(path: Path) -> list[UnitError] | None:
    """The problems stored at ``path``; None when there are none stored or they are unreadable."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        problems = [
            UnitError(r["message"], Loc(r["file"], r["line"], r["col"], r["source_line"]))
            for r in rows
        ]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return problems if all(map(_well_formed, problems)) else None


def _well_formed(p: UnitError) -> bool:
    """Whether a stored problem has the types a fresh one has (a damaged file has not)."""
    loc = p.loc
    texts = isinstance(p.message, str) and isinstance(loc.file, str)
    numbers = all(isinstance(x, int) and not isinstance(x, bool) for x in (loc.line, loc.col))
    return texts and numbers and isinstance(loc.source_line, str | None)


def _write(path: Path, problems: list[UnitError]) -> None:
    """Store ``problems`` at ``path`` atomically (a rename); quietly not, if it cannot."""
    rows = [
        {
            "message": p.message,
            "file": p.loc.file,
            "line": p.loc.line,
            "col": p.loc.col,
            "source_line": p.loc.source_line,
        }
        for p in problems
    ]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(rows), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
