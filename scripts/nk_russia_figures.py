"""Regenerate the figures of docs/nk_russia.md (a thin wrapper of the library).

Usage (from a clone, at the repository root)::

    .venv/bin/python scripts/nk_russia_figures.py [--out docs/img] [--runs 1000]

The drawing lives in :mod:`quidpro.report.flagship_figures`; the claim probabilities
come from ``quidpro claims nk_russia``. tests/test_flagship_figures.py runs this script.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import quidpro
from quidpro.report.flagship_figures import write_figures

ROOT = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Figures for docs/nk_russia.md")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--model", default="nk_russia")
    ap.add_argument("--runs", type=int, default=1000, help="ensemble members")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    for path in write_figures(quidpro.load(args.model), Path(args.out), args.runs, args.seed):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
