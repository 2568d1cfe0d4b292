"""Where the tests find their vendored data (tests/data/, see its README.md).

A clone tests everything: nothing here reads outside the repository. Data that should
be here and is not stops the collection with the missing path named; it never turns
tests into skips.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


class MissingTestData(RuntimeError):
    """A vendored file or folder of tests/data/ is not there."""


def vendored(*parts: str) -> Path:
    """The path of ``tests/data/<parts>``, which must exist."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        raise MissingTestData(
            f"{path}: vendored test data is missing; restore tests/data/ from the "
            "repository (see tests/data/README.md)"
        )
    return path


CONFORMANCE = vendored("conformance")
CONFORMANCE_MODELS: list[str] = (CONFORMANCE / "models.txt").read_text().split()
CONFORMANCE_VENSIM = vendored("conformance-vensim")
