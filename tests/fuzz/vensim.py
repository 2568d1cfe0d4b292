r"""Mutation fuzzing of the Vensim reader: every mutated ``.mdl`` a model or a clean error.

Seeds are the 88 vendored models of the Vensim suite (tests/data/conformance-vensim),
cut at the sketch (``\\\---///``: the reader ignores what follows, so edits there
test nothing). Each case inserts a few Vensim tokens (record separators, ``INTEG``,
lookups, subscript ranges, macros, the delay and smooth family with hostile
orders, data functions, control variables with hostile values) and then applies
the generic edits of :func:`tests.fuzz.mutate.mutate`; :func:`tests.fuzz.mutate.outcome`
judges it. Crashes and hangs are written to ``regressions/`` as ``.mdl`` files,
replayed by ``test_fuzz_vensim.py``.

Usage: ``python -m tests.fuzz.vensim [N] [SEED]`` (``make fuzz`` runs 3,000).
"""

from __future__ import annotations

import random
import re
import sys

from tests.fuzz.mutate import ROOT, main, mutate

from quidpro.lang.vensim_builtins import KNOWN

SUITE = ROOT / "tests/data/conformance-vensim"
SKETCH = "\\\\\\---///"

#: Vensim text a hostile or careless modeller might write.
VENSIM_TOKENS = [
    "|",
    "~",
    "~~|",
    " = ",
    ":=",
    "==",
    "\\\n",
    "INTEG(",
    "INTEG(x, ",
    "INTEG(1, 1e308)",
    "IF THEN ELSE(",
    "WITH LOOKUP(",
    "([(0,0)-(1,1)],(0,0),(1,1))",
    "([(0,0)-(1,1)],(1,0),(0,1))",
    "(0, 1, 0, 1)",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    "!",
    "->",
    "<->",
    ":EXCEPT:",
    "dim: (a1-a1000000)",
    "dim: (a9-a1)",
    "dim: dim",
    "[dim]",
    "[dim!]",
    "SUM(x[dim!])",
    "TABBED ARRAY(",
    ":MACRO: M(x)\ny = x ~ ~ |\n:END OF MACRO:\n",
    ":MACRO:",
    ":END OF MACRO:",
    "M(M(M(",
    ":SUPPLEMENTARY",
    ":AND:",
    ":OR:",
    ":NOT:",
    ":NA:",
    "DELAY N(x, 1, 0, 1000000)",
    "SMOOTH N(x, 1, 0, 1e9)",
    "DELAY FIXED(x, 1e300, 0)",
    "DELAY FIXED(x, 0/0, 0)",
    "DELAY3(x, 0)",
    "SMOOTH(x, -1)",
    "TREND(x, 0, 0)",
    "PULSE TRAIN(0, 1, 0, 10)",
    "RAMP(1, 2, ",
    "STEP(",
    "XIDZ(1, 0, ",
    "ZIDZ(0, 0)",
    "INITIAL(",
    "ACTIVE INITIAL(",
    "SAMPLE IF TRUE(",
    "INVERT MATRIX(",
    "ELMCOUNT(",
    "GAME(",
    "GET XLS DATA('a.xlsx', 'b', 'c', 'd')",
    "GET TIME VALUE(0, 0, 0)",
    "A FUNCTION OF(",
    "RANDOM UNIFORM(0, 1, 0)",
    "TIME STEP = 0",
    "TIME STEP = -1",
    "TIME STEP = 1e-300",
    "FINAL TIME = 1e12",
    "FINAL TIME = Time",
    "INITIAL TIME = 1e308",
    "SAVEPER = 0",
    "Time",
    '"',
    '"a\\"b"',
    "'",
    "{UTF-8}",
    "{",
    "}",
    "*** .Group ***",
    "********************************************************",
    "1e308",
    "1e-308",
    "1/0",
    "0/0",
    "-",
    "^",
    "2^2^2^2^2^2^2^2^2^2^2",
    "((((((((((((((((((((((((((((((((((((((((",
    "_a__smooth1",
    "[/]",
    "\x1b]0;x\x07",
    "=HYPERLINK(1)",
    "\x00",
    "\ufeff",
    "\r",
    "\t",
]


def vensim_seeds() -> list[tuple[str, str]]:
    """(file name, text up to the sketch) of every model of the vendored Vensim suite."""
    models = (SUITE / "models.txt").read_text().split()
    out = []
    for model in models:
        path = SUITE / model
        text = path.read_bytes().decode("utf-8", "replace")
        cut = text.find(SKETCH)
        out.append((path.name, text if cut < 0 else text[: cut + len(SKETCH)] + "\n"))
    return out


#: Numbers put in place of a model's own: the edges of float and of counts.
HOSTILE_NUMBERS = ["0", "-1", "1e308", "-1e308", "1e-308", "1e9", "0.5", "1e400", "-0"]
_FUNCTION = re.compile("|".join(re.escape(k) for k in sorted(KNOWN, key=len, reverse=True)))
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")


def _swap(text: str, pattern: re.Pattern[str], choices: list[str], rng: random.Random) -> str:
    """``text`` with one match of ``pattern`` (chosen at random) replaced."""
    found = list(pattern.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(choices) + text[m.end() :]


def mutate_vensim(text: str, rng: random.Random) -> str:
    """``text`` with Vensim-aware edits, then (half the time) the generic ones.

    One to three of: a Vensim token inserted anywhere, a function replaced by
    another Vensim function (other arities, other meanings), a number replaced by
    a hostile one.
    """
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(3)
        if kind == 0:
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(VENSIM_TOKENS) + text[i:]
        elif kind == 1:
            text = _swap(text, _FUNCTION, KNOWN, rng)
        else:
            text = _swap(text, _NUMBER, HOSTILE_NUMBERS, rng)
    return mutate(text, rng) if rng.random() < 0.5 else text


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*args, pool=vensim_seeds(), mutator=mutate_vensim))
