"""Regenerate the figures and tables of docs/ensembles.md from the flagship model.

Usage (from a clone, at the repository root)::

    .venv/bin/python scripts/ensemble_figures.py [--out docs/img] [--runs 2000]
        [--compare-runs 500] [--samples 256]

About a minute on two cores at the defaults, which are the page's. Writes
ensemble_fan.png, ensemble_compare.png and ensemble_sobol.png into ``--out`` and
prints the commands' tables, which the page quotes. Nothing is stored (--no-store).
Each figure is one ``quidpro`` command, run in this process through the CLI's own
entry point; tests/test_flagship_figures.py runs this script at a small size.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from quidpro.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
MODEL = "nk_russia"
QUERY = "containers_shipped > 20000 at 2025-06-01"


def commands(img: Path, work: Path, runs: int, compare_runs: int, samples: int) -> list[list[str]]:
    """The three commands of docs/ensembles.md, writing their figures into ``img``."""
    return [
        [
            "ensemble", MODEL, "--runs", str(runs), "--seed", "2024", "--sampler", "lhs",
            "--vars", "containers_shipped,partnership_intensity,sanctions_regime_strength,"
            "nk_shell_production_capacity",
            "--query", QUERY, "--query", "sanctions_regime_strength < 0.25 at 2026-01-01",
            "--json", str(work / "ensemble_fan.json"), "--plot", str(img / "ensemble_fan.png"),
        ],
        [
            "compare", MODEL, "--scenarios", "baseline,ceasefire_2025,sanctions_restored",
            "--runs", str(compare_runs), "--seed", "2024", "--vars", "containers_shipped,"
            "sanctions_regime_strength", "--at", "2024-01-01,2025-06-01,2030-01-01",
            "--query", QUERY, "--plot", str(img / "ensemble_compare.png"),
        ],
        [
            "sensitivity", MODEL, "--method", "sobol", "--output", "containers_shipped",
            "--at", "2025-06-01", "--samples", str(samples), "--seed", "2024",
            "--json", str(work / "ensemble_sobol.json"), "--plot", str(img / "ensemble_sobol.png"),
        ],
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Figures for docs/ensembles.md")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--runs", type=int, default=2000, help="ensemble members")
    ap.add_argument("--compare-runs", type=int, default=500, help="members per scenario")
    ap.add_argument("--samples", type=int, default=256, help="Sobol base sample size")
    args = ap.parse_args(argv)
    img = Path(args.out)
    img.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for cmd in commands(img, Path(work), args.runs, args.compare_runs, args.samples):
            print("$ quidpro " + " ".join(cmd[:2]) + " ...", flush=True)
            try:
                app([*cmd, "--no-store"], prog_name="quidpro")
            except SystemExit as done:  # the CLI ends by exiting
                if done.code:
                    return int(done.code)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
