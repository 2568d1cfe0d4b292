"""Vensim .mdl parse and compile time: the largest suite model and a generated 1,000-equation file.

    .venv/bin/python benchmarks/bench_vensim.py [--repeat 5] [--pysd]

"parse" is ``.mdl`` text -> checked ``Model`` (split, Lark grammar, subscripts,
builder, checks); "compile" is lowering plus generating the NumPy kernel
(``Compiled(model).kernel(...)``); "run" is one run. Each figure is the median of
``--repeat`` fresh timings in this process. With ``--pysd`` (and PySD installed),
PySD's ``read_vensim`` is timed on the same files, as a ratio. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from quidpro.api import LoadedModel
from quidpro.errors import QuidproError
from quidpro.io.load import parse_model
from quidpro.solve.simulate import Compiled

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "data" / "conformance-vensim"
CONTROL = (
    "INITIAL TIME = 0 ~ Month ~ |\nFINAL TIME = 100 ~ Month ~ |\n"
    "TIME STEP = 0.25 ~ Month ~ |\nSAVEPER = 1 ~ Month ~ |\n"
)


def generated(n: int) -> str:
    """n equations: a chain of n/4 stocks, each with two flows and a residence time."""
    lines = ["{UTF-8}"]
    for i in range(n // 4):
        feed = f"Level {i - 1} * 0.01" if i else "1"
        if i % 4 == 0:  # every fourth inflow also reads a smoothed, switched signal
            feed += f" + IF THEN ELSE(Time > {i % 50}, SMOOTH(Level {i}, 3) * 0.001, 0)"
        lines += [
            f"Level {i} = INTEG(Inflow {i} - Outflow {i}, 10) ~ Widgets ~ Stock {i}. |",
            f"Inflow {i} = {feed} ~ Widgets/Month ~ |",
            f"Outflow {i} = Level {i} / Residence {i} ~ Widgets/Month ~ |",
            f"Residence {i} = {2 + i % 7} ~ Month ~ |",
        ]
    return "\n".join(lines) + "\n" + CONTROL


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def largest_model() -> Path:
    """The largest suite model quidpro reads (the very largest uses ALLOCATE AVAILABLE)."""
    models = [SUITE / m for m in (SUITE / "models.txt").read_text().split()]
    for path in sorted(models, key=lambda p: p.stat().st_size, reverse=True):
        try:
            parse_model(path.read_text(encoding="utf-8-sig"), str(path))
        except QuidproError:
            continue
        return path
    raise SystemExit("no model of the suite could be read")


def measure(label: str, path: Path, repeat: int, pysd: bool) -> str:
    text = path.read_text(encoding="utf-8-sig")
    spec = parse_model(text, str(path))
    n_eq = len(spec.stocks) + len(spec.flows) + len(spec.auxiliaries) + len(spec.constants)
    parse = median_time(lambda: parse_model(text, str(path)), repeat)

    def compile_once() -> None:
        compiled = Compiled(spec)
        compiled.kernel("euler", tuple(compiled.system.visible), "numpy")

    compile_ = median_time(compile_once, repeat)
    lm = LoadedModel(spec)
    lm.run(backend="numpy")
    run = median_time(lambda: lm.run(backend="numpy"), repeat)
    row = f"| {label} | {n_eq} | {parse * 1e3:.1f} | {compile_ * 1e3:.1f} | {run * 1e3:.1f} |"
    if pysd:
        import pysd as pysd_mod

        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(text, encoding="utf-8")
            read = median_time(lambda: pysd_mod.read_vensim(str(copy)), max(1, repeat // 2))
        row += f" {read * 1e3:.0f} | {read / (parse + compile_):.1f}x |"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pysd", action="store_true", help="time PySD's read_vensim too")
    args = ap.parse_args()
    head = "| model | scalars | parse ms | compile ms | one run ms |"
    rule = "|---|---:|---:|---:|---:|"
    if args.pysd:
        head += " PySD read_vensim ms | PySD / quidpro (parse+compile) |"
        rule += "---:|---:|"
    print(head)
    print(rule)
    big = largest_model()
    print(measure(f"`{big.relative_to(SUITE)}`", big, args.repeat, args.pysd))
    with tempfile.TemporaryDirectory() as tmp:
        gen = Path(tmp) / "generated_1000.mdl"
        gen.write_text(generated(1000))
        print(measure("generated, 1,000 equations", gen, args.repeat, args.pysd))


if __name__ == "__main__":
    main()
