"""Regenerate the figures and tables of docs/ensembles.md from the flagship model.

Run: ``.venv/bin/python scripts/ensemble_figures.py`` (about a minute on two cores).
Writes docs/img/ensemble_fan.png, ensemble_compare.png and ensemble_sobol.png and
prints the commands' tables, which the page quotes. Nothing is stored (--no-store).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
CLI = [sys.executable, "-c", "from quidpro.cli.main import main; main()"]
MODEL = "nk_russia"
QUERY = "containers_shipped > 20000 at 2025-06-01"

COMMANDS = [
    [
        "ensemble", MODEL, "--runs", "2000", "--seed", "2024", "--sampler", "lhs",
        "--vars", "containers_shipped,partnership_intensity,sanctions_regime_strength,"
        "nk_shell_production_capacity",
        "--query", QUERY, "--query", "sanctions_regime_strength < 0.25 at 2026-01-01",
        "--json", str(IMG / "ensemble_fan.json"), "--plot", str(IMG / "ensemble_fan.png"),
    ],
    [
        "compare", MODEL, "--scenarios", "baseline,ceasefire_2025,sanctions_restored",
        "--runs", "500", "--seed", "2024", "--vars", "containers_shipped,"
        "sanctions_regime_strength", "--at", "2024-01-01,2025-06-01,2030-01-01",
        "--query", QUERY, "--plot", str(IMG / "ensemble_compare.png"),
    ],
    [
        "sensitivity", MODEL, "--method", "sobol", "--output", "containers_shipped",
        "--at", "2025-06-01", "--samples", "256", "--seed", "2024",
        "--json", str(IMG / "ensemble_sobol.json"), "--plot", str(IMG / "ensemble_sobol.png"),
    ],
]  # fmt: skip


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    for args in COMMANDS:
        print("$ quidpro " + " ".join(args[:2]) + " ...", flush=True)
        subprocess.run([*CLI, *args, "--no-store"], check=True, cwd=ROOT)
    for name in ("ensemble_fan.json", "ensemble_sobol.json"):
        (IMG / name).unlink()


if __name__ == "__main__":
    main()
