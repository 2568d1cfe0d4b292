"""A mutation fuzzer over model files: every outcome must be a model or a clean error.

Seeds are the repository's own models (YAML built-ins and test models, the vendored
XMILE conformance models). Each case applies a few random edits (delete, duplicate or
swap a span, insert a hostile token, flip a byte) with a seeded generator, then reads,
checks and runs the result. A clean outcome is a loaded model or a
:class:`~quidpro.errors.QuidproError`; anything else is a crash, and a case that uses
more than :data:`HANG_SECONDS` of CPU time is a hang (CPU time, not wall time: on a
shared machine a slow case is not a hang). Crashes are written to ``regressions/``
(replayed by ``test_fuzz.py`` for ever after).

Usage: ``python -m tests.fuzz.mutate [N] [SEED]`` (``make fuzz`` runs 10,000).
"""

from __future__ import annotations

import random
import signal
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).parent / "regressions"
HANG_SECONDS = 20  # of this process's CPU time (user and system)
PROGRESS_EVERY = 500  # cases between progress lines on stderr
#: Tokens a hostile user might type: non-finite numbers, huge counts, markup, nesting.
TOKENS = [
    ".nan",
    ".inf",
    "-.inf",
    "1e308",
    "1e-308",
    "0",
    "-1",
    "1/0",
    "0/0",
    "999999999",
    "[/]",
    "$x^{$",
    "\x1b]0;x\x07",
    "=HYPERLINK(1)",
    "_a__smooth1",
    "_f__raw",
    "time",
    "smooth(",
    "smoothn(s, 1, 1000000)",
    "delay_fixed(s, 1e300, 0)",
    "((((((((",
    "))",
    "if(",
    "{",
    "}",
    "[",
    "]",
    ":",
    "- ",
    "\n",
    "  ",
    "&",
    "<",
    ">",
    "</eqn>",
    "<eqn>",
    "<!ENTITY x SYSTEM 'file:///etc/passwd'>",
    "&x;",
    "!!python/object:os.system",
    "*a",
    "&a",
    "2022-02-30",
    "9999-12-31",
    "quidpro: true",
    "on",
    "\x00",
    "\ufeff",
]


def seeds() -> list[tuple[str, str]]:
    """(file name, text) of every seed model."""
    files = sorted((ROOT / "src/quidpro/models").glob("*.yaml"))
    files += sorted((ROOT / "tests/models").glob("*.yaml"))
    files += sorted((ROOT / "tests/data/conformance").rglob("*.xmile"))[:12]
    return [(f.name, f.read_text(encoding="utf-8", errors="replace")) for f in files]


def mutate(text: str, rng: random.Random) -> str:
    """``text`` with one to four random edits."""
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        i, j = sorted(rng.randrange(n + 1) for _ in range(2))
        op = rng.randrange(5)
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + text[i:j] * rng.randint(2, 6) + text[j:]
        elif op == 2:
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif op == 3 and n:
            text = text[:i] + chr(rng.randrange(32, 127)) + text[i + 1 :]
        else:
            k = rng.randrange(n + 1)
            text = text[:i] + text[k : k + (j - i)] + text[j:]
    return text


class Hang(Exception):
    """A case used more than :data:`HANG_SECONDS` of CPU time."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def outcome(name: str, text: str) -> str:
    """``ok``, ``error`` (a QuidproError), ``hang``, or ``crash: <traceback>``."""
    from quidpro.api import LoadedModel
    from quidpro.errors import QuidproError
    from quidpro.io.load import parse_model

    old = signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, HANG_SECONDS)
    try:
        model = parse_model(text, name)
        LoadedModel(model).run()
    except QuidproError:
        return "error"
    except Hang:
        return "hang"
    except Exception:
        return "crash: " + traceback.format_exc(limit=6)
    else:
        return "ok"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def main(
    n: int = 10_000,
    seed: int = 13,
    pool: list[tuple[str, str]] | None = None,
    mutator: Callable[[str, random.Random], str] = mutate,
) -> int:
    """Run ``n`` cases; write crashes and hangs to regressions/; 0 when there were none.

    ``pool`` and ``mutator`` default to :func:`seeds` and :func:`mutate`
    (``tests/fuzz/vensim.py`` passes the Vensim suite and its own edits).
    """
    warnings.simplefilter("ignore")  # repair warnings of mangled XML are expected here
    rng = random.Random(seed)
    pool = seeds() if pool is None else pool
    counts: Counter[str] = Counter()
    start = time.monotonic()
    for case in range(n):
        name, text = rng.choice(pool)
        mutated = mutator(text, rng)
        result = outcome(name, mutated)
        kind = result.split(":", 1)[0]
        counts[kind] += 1
        if kind in ("crash", "hang"):
            REGRESSIONS.mkdir(exist_ok=True)
            suffix = Path(name).suffix
            out = REGRESSIONS / f"{kind}-{seed}-{case}{suffix}"
            out.write_text(mutated, encoding="utf-8")
            sys.stderr.write(f"{out.name}: {result}\n")
        if (case + 1) % PROGRESS_EVERY == 0:
            sys.stderr.write(f"{case + 1} cases, {time.monotonic() - start:.0f} s: {counts}\n")
    took = time.monotonic() - start
    sys.stdout.write(
        f"{n} mutated files (seed {seed}) in {took:.0f} s: "
        + ", ".join(f"{counts[k]} {k}" for k in ("ok", "error", "crash", "hang"))
        + "\n"
    )
    return 1 if counts["crash"] or counts["hang"] else 0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*args))
