"""How load + compile and run time grow with model size (k copies of the 50-variable model).

Run: ``.venv/bin/python benchmarks/bench_scaling.py [k ...]`` (default 1 10 100).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generated_model import model_yaml

import quidpro


def main(ks: list[int]) -> None:
    print("| copies | equations | load + check + compile | one run (numpy) | per equation-step |")
    print("|---|---|---|---|---|")
    for k in ks:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"bench_k{k}.yaml"
            path.write_text(model_yaml(k, 1000))
            t = time.perf_counter()
            m = quidpro.load(path)
            m.compiled.kernel("euler", tuple(m.compiled.system.visible), "numpy")
            load = time.perf_counter() - t
            t = time.perf_counter()
            m.simulate(backend="numpy")
            run = time.perf_counter() - t
        n_eq = len(m.compiled.system.equations) + len(m.compiled.system.states)
        print(
            f"| {k} | {n_eq:,} | {load:.2f} s | {run:.2f} s | {run / (n_eq * 1000) * 1e9:.0f} ns |"
        )


def parse_ks(default: list[int]) -> list[int]:
    """The copies k to measure, from the command line."""
    import argparse

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("k", nargs="*", type=int, help=f"copies of the model (default: {default})")
    return ap.parse_args().k or default


if __name__ == "__main__":
    main(parse_ks([1, 10, 100]))
