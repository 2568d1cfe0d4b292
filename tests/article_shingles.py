"""The article check without the article: salted hashes of its 8-word shingles.

The flagship model paraphrases an article, and no run of eight consecutive words of
the article may appear in the model file or the docs (tests/test_nk_russia.py). The
article itself may not be copied into the repository, so the test compares against
``tests/data/article_shingles.txt``: one salted SHA-256 digest (truncated to 64 bits;
a false match among a few thousand digests has odds of about 1e-16) per shingle of
normalised words. The salt keeps the file from being an index that confirms guessed
phrases with an ordinary hash table.

Regenerate by hand, only when the article changes, from a checkout beside the shared
material (the test never reads it)::

    python tests/article_shingles.py ../shared/seed/nk-russia-partnership-article.txt
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sys
from pathlib import Path

N_WORDS = 8  # long enough to spare common phrases, short enough to catch a copied clause
# The article's title is cited as a source, so the shingles within it are exempt.
TITLE = "Why North Korea's Military Partnership With Russia Is Here to Stay"
HASHES = Path(__file__).resolve().parent / "data" / "article_shingles.txt"


def words(text: str) -> list[str]:
    """Lower-case runs of letters and digits (a curly apostrophe read as a straight one)."""
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def shingles(text: str, n: int = N_WORDS) -> set[str]:
    """Every run of ``n`` consecutive normalised words of ``text``, space-joined."""
    w = words(text)
    return {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}


def digest(salt: str, shingle: str) -> str:
    """The stored form of one shingle: 16 hex digits of SHA-256 over salt and words."""
    return hashlib.sha256(f"{salt}\n{shingle}".encode()).hexdigest()[:16]


def load(path: Path = HASHES) -> tuple[str, set[str]]:
    """The salt and the digests of a hashes file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    salt = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("# salt:"))
    return salt, {line for line in lines if line and not line.startswith("#")}


def copied(text: str, path: Path = HASHES) -> list[str]:
    """The shingles of ``text`` that are shingles of the article, sorted."""
    salt, hashes = load(path)
    return sorted(s for s in shingles(text) if digest(salt, s) in hashes)


def write(text: str, path: Path = HASHES) -> int:
    """Write the digests of the shingles of ``text`` (less the title's) to ``path``;
    returns how many."""
    title = " ".join(words(TITLE))
    kept = {s for s in shingles(text) if s not in title}
    salt = secrets.token_hex(16)
    lines = [
        f"# Salted SHA-256 digests (16 hex digits) of the {N_WORDS}-word shingles of the",
        "# article the flagship model paraphrases; written by tests/article_shingles.py.",
        f"# shingles: {len(kept)}",
        f"# salt: {salt}",
        *sorted(digest(salt, s) for s in kept),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(kept)


if __name__ == "__main__":
    n = write(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(f"wrote {n} digests to {HASHES}")
