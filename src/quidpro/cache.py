"""Where quidpro keeps what it can rebuild: generated kernels, unit checks, parser tables.

``$QUIDPRO_CACHE`` when set, else the user's cache folder for quidpro (platformdirs).
A leaf module (it imports nothing of quidpro), so that every layer finds the same folder.
Deleting the folder only costs time: everything in it is rebuilt on demand.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$QUIDPRO_CACHE`` or the user cache folder of quidpro (not created here)."""
    root = os.environ.get("QUIDPRO_CACHE")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("quidpro")
    return Path(root)


def parser_cache(name: str) -> str | bool:
    """The file where Lark keeps the tables of parser ``name``, or False without a cache.

    Building the LALR tables of the expression grammar takes ~85 ms a process; Lark
    stores them with a hash of the grammar, its options and Lark's version, and
    rebuilds when any of them changes. The file is in quidpro's own cache folder
    (never the shared temporary folder Lark uses by default), and where that folder
    cannot be made the parser is built every time.
    """
    folder = cache_root() / "parsers"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / f"{name}.lark")
