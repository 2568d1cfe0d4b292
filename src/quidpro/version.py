"""quidpro's version, read from the installed package's metadata.

``pyproject.toml`` holds the only literal; this leaf module (it imports nothing of
quidpro) is where the rest of the code base reads it, so that a writer low in the
layers need not import the ``quidpro`` package itself.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quidpro")
except PackageNotFoundError:  # pragma: no cover - source tree used without installing
    __version__ = "0+unknown"
