"""Store a built-in model's back-test beside its file (``NAME.backtest.json``).

    .venv/bin/python scripts/store_backtest.py nk_russia

The workbench's Evidence tab shows it; ``tests/web/test_available.py`` checks that a
fresh run with the stored settings gives the same numbers (docs/web.md, "Evidence").
"""

from __future__ import annotations

import sys

import quidpro
from quidpro.report.available import write_backtest


def main(argv: list[str]) -> int:
    """Write the back-test of each model named in ``argv``."""
    if not argv:
        print("usage: store_backtest.py MODEL [MODEL ...]", file=sys.stderr)
        return 2
    for name in argv:
        path = write_backtest(quidpro.load(name))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
