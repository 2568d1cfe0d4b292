"""How the subcommands print: numbers, lists, query tables, warnings, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from quidpro.cli.common import console, err_console
from quidpro.report.numbers import fmt_number

if TYPE_CHECKING:
    from quidpro.api import LoadedModel


def fmt(x: float) -> str:
    """A number in a table, by the one number policy of the page, brief and terminal.

    :func:`quidpro.report.numbers.fmt_number`: four significant digits, thousands
    separators, ``0`` for rounding noise, ``n/a`` for a missing value.
    """
    return fmt_number(x)


def listing(names: list[str], most: int = 6) -> str:
    """``a, b, c`` or, past ``most`` names, ``12 constants (a, b, ..., f, ...)``."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{len(names)} constants ({', '.join(names[:most])}, ...)"


def query_table(title: str, queries: list[dict[str, Any]]) -> Table:
    """Each query's probability and its 95% interval."""
    table = Table(title=title, title_justify="left")
    table.add_column("query")
    table.add_column("probability", justify="right")
    table.add_column("95% CI", justify="right")
    for q in queries:
        lo, hi = q["ci"]
        table.add_row(q["query"], f"{q['probability']:.3f}", f"{lo:.3f} – {hi:.3f}")
    return table


def wrote(*paths: Path | None) -> None:
    """Say which files were written (the paths given that are not None)."""
    for path in paths:
        if path is not None:
            console.print(f"wrote {path}")


def report_failed(n_failed: int, n: int, what: str = "") -> None:
    """Warn (on stderr) that ``n_failed`` of ``n`` members went non-finite."""
    if n_failed:
        err_console.print(
            f"warning: {n_failed} of {n} runs{what} went non-finite; they are left out of "
            "the quantiles and probabilities",
            style="yellow",
        )


@contextmanager
def progress(total: int, label: str, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (none when ``quiet``); yields ``advance(n)``."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def date_axis(m: LoadedModel) -> Callable[[Any], Any] | None:
    """Model times to calendar dates for plots, when the model has a calendar origin."""
    return m.dates if m.spec.time.origin is not None else None


@contextmanager
def stage_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar whose label follows the stage of a long computation."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task("starting", total=1)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield update
