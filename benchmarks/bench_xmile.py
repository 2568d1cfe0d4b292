"""quidpro vs PySD on XMILE models: load, one run, and 1,000 runs with varied parameters.

    .venv/bin/python benchmarks/bench_xmile.py [--models teacup sir k1 k10 flagship]
                                               [--runs 1000] [--pysd-loop 20]

quidpro runs the 1,000 members in one batched call,
``quidpro.load(path).simulate(n_runs=1000, set={name: values})``; PySD runs them in a
Python loop (``model.run(params=...)``), measured over ``--pysd-loop`` runs and
extrapolated. Every PySD model is read from a copy in a temporary folder (PySD
writes a ``.py`` file beside the model; ``DT`` is spelled ``time_step`` for PySD).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import quidpro
from quidpro.io.xmile_writer import model_to_xmile

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@dataclass
class Case:
    label: str
    path: Callable[[Path], Path]  # the XMILE file, written into the scratch folder if needed
    vary: str  # a constant varied across the ensemble
    spread: float = 0.2  # +- relative range of its values


def _shared(rel: str) -> Callable[[Path], Path]:
    return lambda tmp: SHARED / rel


def _flagship(tmp: Path) -> Path:
    out = tmp / "nk_russia.xmile"
    out.write_text(model_to_xmile(quidpro.load("nk_russia").spec))
    return out


CASES = {
    "teacup": Case(
        "teacup", _shared("conformance/samples/teacup/teacup.xmile"), "Room_Temperature"
    ),
    "sir": Case("SIR", _shared("conformance/samples/SIR/SIR.xmile"), "contact_infectivity"),
    "k1": Case("partnership k1", _shared("benchmarks/partnership_k1.xmile"), ""),
    "k10": Case("partnership k10", _shared("benchmarks/partnership_k10.xmile"), ""),
    "k100": Case("partnership k100", _shared("benchmarks/partnership_k100.xmile"), ""),
    "flagship": Case("nk_russia (exported)", _flagship, ""),
}


def _median(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_quidpro(path: Path, vary: str, runs: int, spread: float) -> dict[str, float]:
    t = time.perf_counter()
    m = quidpro.load(path)
    load = time.perf_counter() - t
    t = time.perf_counter()
    m.run()
    first = time.perf_counter() - t
    one = _median(m.run, 5)
    base = m.spec.constants[vary].value
    values = base * np.linspace(1 - spread, 1 + spread, runs)
    m.simulate(n_runs=runs, set={vary: values})  # compile for this size first
    t = time.perf_counter()
    m.simulate(n_runs=runs, set={vary: values})
    batch = time.perf_counter() - t
    return {"load": load, "first": first, "one": one, "batch": batch}


def bench_pysd(path: Path, vary: str, runs: int, loop: int, spread: float) -> dict[str, float]:
    import pysd

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        # PySD calls XMILE's DT `time_step` (the only change made for it).
        copy.write_text(re.sub(r"\bDT\b", "time_step", path.read_text()))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            model = pysd.read_xmile(str(copy))
            load = time.perf_counter() - t
            one = _median(lambda: model.run(progress=False), 3)
            pyname = _pysd_name(model, vary)
            base = float(model.components.__getattribute__(pyname)())
            values = base * np.linspace(1 - spread, 1 + spread, loop)
            t = time.perf_counter()
            for v in values:
                model.run(params={pyname: float(v)}, progress=False)
            per = (time.perf_counter() - t) / loop
    return {"load": load, "one": one, "batch": per * runs}


def _pysd_name(model: object, vary: str) -> str:
    namespace = model.namespace  # type: ignore[attr-defined]
    key = vary.replace("_", " ").lower()
    for original, py in namespace.items():
        if original.replace("_", " ").lower() == key:
            return str(py)
    raise KeyError(vary)


def _pick_constant(path: Path) -> str:
    spec = quidpro.load(path).spec
    return next(n for n, c in spec.constants.items() if c.value not in (0.0,))


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["teacup", "sir", "k1", "k10", "flagship"])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--pysd-loop", type=int, default=20, help="PySD runs timed (extrapolated)")
    ap.add_argument("--no-pysd", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.models:
            case = CASES[key]
            path = case.path(Path(tmp))
            vary = case.vary or _pick_constant(path)
            q = bench_quidpro(path, vary, args.runs, case.spread)
            p = (
                None
                if args.no_pysd
                else bench_pysd(path, vary, args.runs, args.pysd_loop, case.spread)
            )
            rows.append((case.label, vary, q, p))
            print(f"done {case.label}: quidpro {q}, PySD {p}", flush=True)
    n = args.runs
    print()
    print(
        "| model | varied | quidpro load | quidpro 1st run | quidpro 1 run | PySD load "
        f"| PySD 1 run | quidpro {n:,} runs | PySD {n:,} runs (loop, extrapolated) | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, vary, q, p in rows:
        pl = _fmt(p["load"]) if p else "—"
        po = _fmt(p["one"]) if p else "—"
        pb = _fmt(p["batch"]) if p else "—"
        up = f"{p['batch'] / q['batch']:,.0f}×" if p else "—"
        print(
            f"| {label} | `{vary}` | {_fmt(q['load'])} | {_fmt(q['first'])} | {_fmt(q['one'])} "
            f"| {pl} | {po} | {_fmt(q['batch'])} | {pb} | {up} |"
        )


if __name__ == "__main__":
    main()
