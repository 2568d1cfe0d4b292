"""How the subcommands print: numbers, lists, query tables, warnings, progress bars.

rich's progress bars load with the first bar (``quidpro run`` shows none).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, JustifyMethod
from rich.measure import Measurement
from rich.table import Column, Table

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


FOLD_WORDS_AT = 16  # a text column may narrow until words longer than this fold


def number_column(
    table: Table, header: str, justify: JustifyMethod = "right", **kwargs: Any
) -> None:
    """Add a column whose cells never wrap nor shorten (numbers, dates, ids).

    :func:`print_table` keeps such cells whole at any terminal width.
    """
    table.add_column(header, justify=justify, no_wrap=True, **kwargs)


def text_column(table: Table, header: str, **kwargs: Any) -> None:
    """Add a left-aligned column of text that wraps, and folds words that are too long."""
    table.add_column(header, overflow="fold", **kwargs)


def print_table(table: Table, keep: int = 1, out: Console | None = None) -> None:
    """Print ``table`` with every no-wrap cell (every number) in full.

    When the columns cannot fit the terminal even with their text wrapped, the table is
    printed as several tables side by side in the data's order, each repeating the
    first ``keep`` columns (the row's name), instead of Rich cutting numbers to
    ``1.268e…``.
    """
    out = out or console
    for part in split_to_fit(table, out, keep):
        out.print(part)


def split_to_fit(table: Table, out: Console, keep: int = 1) -> list[Table]:
    """``table`` as one or more tables, each at most the console's width when it can be."""
    needs = [_column_need(table, c, out) for c in table.columns]
    border = 1 if table.box is not None else 0
    edge = border if table.show_edge else 0

    def width(idx: list[int]) -> int:
        return sum(needs[i] for i in idx) + border * max(len(idx) - 1, 0) + 2 * edge

    every = list(range(len(table.columns)))
    keep = min(keep, len(every))
    if width(every) <= out.width or len(every) <= keep + 1:
        return [table]
    groups: list[list[int]] = []
    current: list[int] = []
    for i in every[keep:]:
        if current and width([*every[:keep], *current, i]) > out.width:
            groups.append(current)
            current = []
        current.append(i)
    groups.append(current)
    return [_sub_table(table, [*every[:keep], *g], n, len(groups)) for n, g in enumerate(groups)]


def _column_need(table: Table, column: Column, out: Console) -> int:
    """The narrowest width ``column`` takes, cell padding included.

    A no-wrap column: its widest cell, whole. A text column: its longest word, up to
    :data:`FOLD_WORDS_AT` characters (longer words, such as long identifiers, fold).
    """
    options = out.options
    cells = [column.header, *column.cells] if table.show_header else list(column.cells)
    sizes = [Measurement.get(out, options, cell) for cell in cells]
    if column.no_wrap:
        inner = max((s.maximum for s in sizes), default=1)
    else:
        inner = min(max((s.minimum for s in sizes), default=1), FOLD_WORDS_AT)
    if column.min_width is not None:
        inner = max(inner, column.min_width)
    _, right, _, left = table.padding
    return inner + left + right


def _sub_table(table: Table, columns: list[int], n: int, total: int) -> Table:
    """The columns ``columns`` of ``table`` as a table of their own (part ``n`` of ``total``)."""
    title = table.title
    if n > 0 and isinstance(title, str):
        title = f"{title} (continued, {n + 1} of {total})"
    elif n > 0:
        title = None
    part = Table(
        title=title,
        title_justify=table.title_justify,
        box=table.box,
        show_header=table.show_header,
        show_edge=table.show_edge,
        show_lines=table.show_lines,
        padding=table.padding,
    )
    part.columns = [dataclasses.replace(table.columns[i], _index=j) for j, i in enumerate(columns)]
    part.rows = list(table.rows)
    return part


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
        p, (lo, hi) = q["probability"], q["ci"]
        if p is None or not math.isfinite(p):  # no member ran to the end
            table.add_row(q["query"], "n/a (every run non-finite)", "")
            continue
        table.add_row(q["query"], f"{p:.3f}", f"{lo:.3f} – {hi:.3f}")
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

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
