"""Start-up pays only for what runs: ``import quidpro`` and ``quidpro --help`` import
none of the heavy libraries, and a command imports only what its work needs.

Each check runs in a fresh interpreter (this process has long imported everything)
and reads ``sys.modules`` at the end; timing is for ``benchmarks/bench_kernel.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

# Libraries that cost tens to hundreds of milliseconds each to import.
HEAVY = (
    "pandas",
    "pyarrow",
    "matplotlib",
    "duckdb",
    "SALib",
    "scipy",
    "networkx",
    "pint",
    "lark",
    "numba",
    "prim",
    "emcee",
    "scoringrules",
    "fastapi",
    "pydantic",
    "dask",
    "yaml",
)
MODEL = Path(__file__).parent / "models" / "decay.yaml"


def probe(code: str, expr: str) -> Any:
    """The JSON value of ``expr`` after ``code`` runs in a new interpreter."""
    script = textwrap.dedent(code) + f"\nimport json, sys\nprint(json.dumps({expr}))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def imported_after(code: str) -> set[str]:
    """The heavy top-level packages in ``sys.modules`` after ``code`` runs."""
    top = "sorted({m.split('.')[0] for m in sys.modules})"
    return set(probe(code, top)) & set(HEAVY)


def cli_modules_after(code: str) -> set[str]:
    """The modules of ``quidpro.cli`` imported after ``code`` runs."""
    return set(probe(code, "[m for m in sys.modules if m.startswith('quidpro.cli.')]"))


def cli(*args: str) -> str:
    """Code running ``quidpro ARGS`` in-process, its output and exit swallowed."""
    return f"""
        import contextlib, io, sys
        sys.argv = ["quidpro", *{list(args)!r}]
        from quidpro.cli.main import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main()
        """


def test_the_probe_sees_an_import() -> None:
    assert imported_after("import yaml, lark") == {"yaml", "lark"}
    assert "quidpro.cli.run" in cli_modules_after("import quidpro.cli.run")


def test_import_quidpro_imports_no_heavy_library() -> None:
    assert imported_after("import quidpro") == set()
    # nor does reading an error class, the cheap part of the API
    assert imported_after("import quidpro; quidpro.ModelError; quidpro.Loc") == set()


def test_help_imports_no_heavy_library_and_no_command() -> None:
    assert imported_after(cli("--help")) == set()
    assert cli_modules_after(cli("--help")) == {"quidpro.cli.main"}


def test_a_commands_help_imports_only_its_own_module() -> None:
    loaded = cli_modules_after(cli("run", "--help"))
    assert "quidpro.cli.run" in loaded
    assert not loaded & {"quidpro.cli.ensemble", "quidpro.cli.serve", "quidpro.cli.calibrate"}


def test_loading_and_simulating_import_no_pandas() -> None:
    # a dated model (the flagship has time.origin): its checks need no calendar library
    code = "import quidpro; quidpro.load('nk_russia').simulate(backend='numpy')"
    assert imported_after(code) == {"lark", "yaml"}  # (the order of equations needs no networkx)


def test_commands_that_only_read_a_model_import_no_pandas_or_numba() -> None:
    for args in (["models"], ["describe", "nk_russia"]):
        # (pydantic is typer's: it coerces the arguments of every command that runs)
        assert imported_after(cli(*args)) <= {"lark", "yaml", "pydantic"}, args


def test_a_run_through_the_api_imports_only_what_a_run_needs() -> None:
    code = f"import quidpro; quidpro.load({str(MODEL)!r}).run()"
    needed = {"pandas", "pyarrow", "lark", "yaml", "numba", "scipy"}
    assert "pandas" in imported_after(code) <= needed  # numba may import scipy's top


def test_quidpro_run_imports_no_analysis_plotting_or_web_library() -> None:
    loaded = imported_after(cli("run", str(MODEL), "--no-store", "-q"))
    assert "lark" in loaded  # the model was read
    # the table comes from the run's arrays: no pandas (nor pyarrow) without --out or the store
    unneeded = {"pandas", "pyarrow", "matplotlib", "duckdb", "SALib", "prim", "emcee"}
    assert not loaded & (unneeded | {"scoringrules", "fastapi"})


def test_quidpro_run_of_a_dated_model_prints_its_table_without_pandas() -> None:
    # the flagship has time.origin: its table is headed by dates, computed without pandas
    code = """
        import contextlib, io, os, sys
        os.environ["COLUMNS"] = "200"  # the whole table, its date headings too
        sys.argv = ["quidpro", "run", "nk_russia", "--no-store"]
        from quidpro.cli.main import main
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown), contextlib.suppress(SystemExit):
            main()
        """
    expr = "[shown.getvalue(), sorted({m.split('.')[0] for m in sys.modules})]"
    table, loaded = probe(code, expr)
    assert "2019-01-01" in table  # the first date heads a column
    assert not set(loaded) & {"pandas", "pyarrow", "matplotlib", "duckdb", "SALib"}


def test_quidpro_run_imports_pandas_only_for_out_and_duckdb_only_for_the_store(
    tmp_path: Path,
) -> None:
    out = str(tmp_path / "run.csv")
    assert "pandas" in imported_after(cli("run", str(MODEL), "--no-store", "-q", "--out", out))
    store = str(tmp_path / "runs.duckdb")
    stored = imported_after(cli("run", str(MODEL), "-q", "--store", store))
    assert "duckdb" in stored
    assert "pandas" not in stored  # the results file is written from the arrays by pyarrow


def test_a_second_quidpro_run_of_a_file_imports_no_pint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path))  # (the probe's process inherits it)
    run = cli("run", str(MODEL), "--no-store", "-q")
    assert "pint" in imported_after(run)  # the first run checks the units
    assert "pint" not in imported_after(run)  # the second reads the check's result


@pytest.mark.parametrize("scipy_first", [False, True])
def test_numbas_set_up_skips_scipy_linalg_and_cffi_and_np_dot_still_compiles(
    scipy_first: bool,
) -> None:
    pytest.importorskip("numba")
    code = f"""
        import sys, numpy as np
        if {scipy_first}:
            import scipy.linalg  # loaded already: numba's set-up is left as it is
        import numba, quidpro
        quidpro.load({str(MODEL)!r}).run_arrays(backend="jit")
        loaded = "scipy.linalg" in sys.modules
        from numba.np import arraymath

        @numba.njit
        def dot(a, b):
            return np.dot(a, b)

        right = float(dot(np.arange(3.0), np.ones(3))) == 3.0
        skipped_cffi = "cffi" not in sys.modules
        import cffi  # importable again after the set-up

        cffi.FFI()
        """
    found = probe(code, "[loaded, right, arraymath._HAVE_BLAS, skipped_cffi]")
    assert found == [scipy_first, True, scipy_first, True]
