"""The arguments and options the subcommands share, and the parsers of their text.

One definition per option, so that ``--seed`` or ``--set`` reads and helps the same in
every command. A new command imports what it needs from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer

from quidpro.cli.common import executor
from quidpro.errors import ConfigError

if TYPE_CHECKING:
    from quidpro.api import LoadedModel
    from quidpro.ensemble.posterior import PosteriorTable
    from quidpro.ensemble.runner import Executor
    from quidpro.model.spec import Model


class Method(StrEnum):
    """Integration methods of ``quidpro run``."""

    euler = "euler"
    rk4 = "rk4"


class Sampler(StrEnum):
    """How ensemble members are drawn."""

    random = "random"
    lhs = "lhs"
    sobol = "sobol"


class Backend(StrEnum):
    """Which kernel runs the batches."""

    auto = "auto"
    numpy = "numpy"
    jit = "jit"


ModelArg = Annotated[
    str, typer.Argument(help="A model file (.yaml, .xmile) or a built-in name.", metavar="MODEL")
]
#: The largest seed: the run store keeps seeds as signed 64-bit integers.
MAX_SEED = 2**63 - 1  # quidpro.ensemble.sampling.MAX_SEED (not imported: NumPy at start-up)
SeedOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=MAX_SEED,
        help="Random seed, 0 to 2^63-1 (default: a fresh one, reported and stored).",
    ),
]


def seed_option(help_text: str) -> Any:
    """The ``--seed`` option of a command with a help of its own: 0 to 2^63-1 as well."""
    return typer.Option("--seed", min=0, max=MAX_SEED, help=help_text)


ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="A scenario of the model.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Fix a constant: NAME=VALUE (repeatable; it is not sampled)."),
]
QueryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--query", help='A comparison at a time, e.g. "x > 100 at 2025-06-01" (repeatable).'
    ),
]
SamplerOpt = Annotated[Sampler, typer.Option(help="random, lhs (Latin hypercube) or sobol.")]
BackendOpt = Annotated[Backend, typer.Option(help="Kernel: auto, numpy or jit (numba).")]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        help="Run batches on a Dask cluster: a scheduler address (tcp://host:8786) or 'local'."
    ),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option(help="Run store file (default: $QUIDPRO_STORE or the user data folder)."),
]
NoStoreOpt = Annotated[bool, typer.Option("--no-store", help="Do not record in the run store.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No tables or progress bar.")]


def parse_sets(items: list[str] | None, model: Model | None = None) -> dict[str, float]:
    """``NAME=VALUE`` pairs from --set (values read by :func:`setting_value`).

    With ``model`` (one with ``time.origin``), a time constant may be set by date:
    ``--set ceasefire_time=2025-07-01``.
    """
    from quidpro.model.overrides import setting_value

    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--set takes NAME=VALUE, got {item!r}")
        out[name] = setting_value(model, name, value)
    return out


PosteriorOpt = Annotated[
    Path | None,
    typer.Option(
        help="Draw the calibrated constants from this posterior file (default: the one the "
        "model names in calibration:)."
    ),
]
PriorOpt = Annotated[
    bool, typer.Option("--prior", help="Draw every constant from its distribution (no posterior).")
]


def resolve_posterior(m: LoadedModel, posterior: Path | None, prior: bool) -> PosteriorTable | None:
    """The posterior to draw from: --posterior FILE, none with --prior, else the model's."""
    from quidpro.ensemble.posterior import model_posterior, read_posterior

    if posterior is not None and prior:
        raise ConfigError("--posterior and --prior exclude each other")
    if prior:
        return None
    if posterior is not None:
        return read_posterior(posterior, m.spec)
    return model_posterior(m.spec)


def drawn_from(table: PosteriorTable | None) -> str:
    """Where an ensemble's members come from, for the summary line."""
    if table is None:
        return "prior"
    return f"posterior ({len(table):,} draws of {len(table.names)} constants)"


class RunArgs(TypedDict):
    """How a sampling command's members run: keyword arguments of the library's commands."""

    backend: str
    executor: Executor | None
    progress: Callable[[int], None]
    posterior: PosteriorTable | None


@contextmanager
def running(
    m: LoadedModel,
    posterior: PosteriorTable | None,
    backend: Backend,
    dask: str | None,
    *,
    total: int,
    label: str,
    quiet: bool,
) -> Iterator[RunArgs]:
    """--backend, --dask (closed on exit), a progress bar of ``total`` and the posterior."""
    from quidpro.cli.format import progress  # rich.progress: ~30 ms a command without runs skips

    with executor(m, dask) as ex, progress(total, label, quiet) as advance:
        yield RunArgs(backend=backend.value, executor=ex, progress=advance, posterior=posterior)


def parse_quantiles(text: str) -> list[float]:
    """Sorted distinct quantiles from ``"0.05,0.5,0.95"`` (--quantiles)."""
    try:
        qs = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--quantiles takes numbers like 0.05,0.5,0.95, got {text!r}") from None
    if not qs or any(not 0.0 <= q <= 1.0 for q in qs):
        raise ConfigError(f"--quantiles must be between 0 and 1, got {text!r}")
    return sorted(set(qs))


def parse_names(text: str | None) -> list[str] | None:
    """The names of a comma-separated list (--vars, --at), or None when not given."""
    return None if text is None else [v.strip() for v in text.split(",") if v.strip()]


def check_suffix(path: Path | None, suffix: str, flag: str) -> None:
    """Refuse an output file ``path`` that does not end in ``suffix``."""
    if path is not None and path.suffix.lower() != suffix:
        raise ConfigError(f"{flag} must end in {suffix}, got {path.name!r}")


def check_output(path: Path | None, suffix: str, flag: str) -> None:
    """Refuse, before any work, an output file that could not be written at the end.

    It must end in ``suffix``, not be a directory, and its folder must exist.
    """
    check_suffix(path, suffix, flag)
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a directory, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: the folder {str(folder)!r} does not exist")


def check_not_input(path: Path | None, model: str, flag: str) -> None:
    """Refuse an output file that is the model file being read (it would be lost)."""
    source = Path(model)
    if path is None or not source.is_file():
        return  # a built-in model's name, or no file: nothing to overwrite
    try:
        same = path.exists() and path.samefile(source)
    except OSError:
        same = False
    if same:
        raise ConfigError(f"{flag} {path} is the model file itself; write to another file")


def resolve_seed(seed: int | None) -> int:
    """The seed given, or a fresh one (which the command reports and stores)."""
    from quidpro.ensemble import new_seed

    return new_seed() if seed is None else seed


EvidenceOpt = Annotated[
    Path | None,
    typer.Option(
        "--evidence",
        help="Evidence CSV (default: the ledger that ships with a built-in model).",
    ),
]


class CalMethod(StrEnum):
    """Calibration methods."""

    map = "map"
    mcmc = "mcmc"


def parse_cutoff(text: str, dated: bool, flag: str = "--until") -> dt.date | float:
    """A cutoff: an ISO date for a dated ledger, a model time for one in model time."""
    if dated:
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise ConfigError(f"{flag} takes a date like 2024-01-01, got {text!r}") from None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(
            f"{flag} takes a model time (the evidence has times), got {text!r}"
        ) from None


def load_evidence(m: Any, evidence: Path | None) -> Any:
    """The ledger given with --evidence, or the one that ships with the model."""
    from quidpro.evidence.ledger import default_ledger

    return default_ledger(m.spec.file, evidence)


@contextmanager
def memory_guard(flags: str) -> Iterator[None]:
    """A size flag too large for the memory: a usage error naming ``flags``, not a bug."""
    try:
        yield
    except MemoryError as exc:
        raise ConfigError(f"not enough memory for these settings ({exc}); lower {flags}") from None
