"""Start-up as a user meets it: fresh processes, and where ``quidpro run`` spends its time.

1. ``python -c pass``, ``python -c 'import quidpro'``, ``quidpro --help`` and
   ``quidpro run nk_russia`` (with and without the run store) in fresh processes,
   interleaved, best of ``--repeat``: wall time and CPU time (user + system of the
   child, which a loaded machine inflates less than the wall), each also as a ratio to
   ``python -c pass`` measured in the same rounds.
2. The phases of ``quidpro run nk_russia`` in one fresh process: each library it
   needs imported in turn, then reading the model, its unit check (a result cached
   from the warm-up run), the run on the backend ``auto`` picks (NumPy in a fresh
   process; where it picks numba, numba's import, its one-time set-up and the cached
   kernel's load come first), a second run, the table and the store (pyarrow and
   duckdb load only for it).

Run: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 5]``. The numba kernel
of the flagship must be in the disk cache (any earlier ``quidpro run nk_russia``).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = Path(sys.executable).with_name("quidpro")

# What quidpro run nk_russia does, split at the boundaries that cost something.
PHASES = r"""
import io, sys, tempfile, time
from pathlib import Path
rows = []
last = [time.process_time(), time.perf_counter()]
def lap(label):
    t, w = time.process_time(), time.perf_counter()
    rows.append((label, t - last[0], w - last[1]))
    last[:] = [t, w]
import quidpro.cli.main; lap("import quidpro.cli.main (typer)")
import typer._adapters; lap("typer's argument coercion (pydantic)")
import numpy; lap("numpy")
import lark, yaml; lap("lark, yaml")
import quidpro.api
import quidpro.cli.run as run_cmd
from quidpro.cli.common import load_model
from quidpro.cli.record import record
lap("quidpro's own modules")
m = load_model("nk_russia"); lap("read and check nk_russia (YAML, expressions)")
run_cmd.warn_units(m); lap("unit check (its cached result)")
first = m.compiled.choose_backend("auto", 1)
if first != "numpy":
    import numba; lap("numba")
    m.compiled.kernel(m.spec.time.method, m.compiled.visible, first).module()
    lap("the kernel's module (generated source, numba's decorators)")
    from quidpro.solve.members import init_numba_target
    init_numba_target(); lap("numba's CPU target (its registries, once a process)")
traj = m.run_arrays(); lap(f"the run (auto: {first})")
second = m.compiled.choose_backend("auto", 1)
traj = m.run_arrays(); lap(f"a second run in the same process (auto: {second})")
from rich.console import Console
table = run_cmd.summary_table(m, traj, None)
Console(file=io.StringIO(), width=120).print(table); lap("summary table")
import pyarrow.parquet; lap("pyarrow (the store's results file)")
import duckdb; lap("duckdb (the store)")
with tempfile.TemporaryDirectory() as d:
    record(Path(d) / "runs.duckdb", False, m, "run", scenario=None, seed=None, n_runs=1,
           settings={}, summary={"end": {}}, results=run_cmd.columns(traj), announce=False)
    lap("record in the run store")
for label, cpu, wall in rows:
    print(f"{label}\t{cpu}\t{wall}")
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def processes(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QUIDPRO_STORE": str(Path(tmp) / "runs.duckdb")}
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import quidpro'": [sys.executable, "-c", "import quidpro"],
            "quidpro --help": [str(EXE), "--help"],
            "quidpro run nk_russia --no-store": [str(EXE), "run", "nk_russia", "--no-store"],
            "quidpro run nk_russia": [str(EXE), "run", "nk_russia"],
        }
        best = {name: (float("inf"), float("inf")) for name in commands}
        for _ in range(repeat):  # interleaved: a burst of load hits every command alike
            for name, cmd in commands.items():
                wall, cpu = timed(cmd, env)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    base_wall, base_cpu = best["python -c pass"]
    print(f"## fresh processes (best of {repeat}, load average {os.getloadavg()[0]:.1f})\n")
    print("| command | wall | CPU | wall × `pass` | CPU × `pass` |")
    print("|---|---|---|---|---|")
    for name, (wall, cpu) in best.items():
        print(
            f"| `{name}` | {wall:.2f} s | {cpu:.2f} s | {wall / base_wall:.1f} | "
            f"{cpu / base_cpu:.1f} |"
        )
    print()


def phases() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PHASES], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    rows = [line.split("\t") for line in done.stdout.strip().splitlines()]
    total = sum(float(cpu) for _, cpu, _ in rows)
    print(f"## the phases of `quidpro run nk_russia` (one fresh process, {total:.2f} s CPU)\n")
    print("| phase | CPU | share | wall |")
    print("|---|---|---|---|")
    for label, cpu, wall in rows:
        c, w = float(cpu), float(wall)
        print(f"| {label} | {c * 1e3:.0f} ms | {c / total:.0%} | {w * 1e3:.0f} ms |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    subprocess.run([str(EXE), "run", "nk_russia", "--no-store", "-q"], check=True)  # warm
    processes(args.repeat)
    phases()


if __name__ == "__main__":
    main()
