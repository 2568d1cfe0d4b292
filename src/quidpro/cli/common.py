"""What every subcommand shares: the consoles, error handling and the loaded model.

Errors: a command body runs inside :func:`command`, which prints a quidpro error as one
clear message (no traceback) and exits 1 for a model or data defect, 2 for a usage
error. Library errors name parameters (``n_runs``); ``flags`` maps them to the flags a
person typed (``--runs``), see :func:`as_flags`.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from quidpro.errors import ConfigError, QuidproError
from quidpro.lang.display import plain as plain  # noqa: PLC0414  # re-exported: older imports

if TYPE_CHECKING:
    from quidpro.api import LoadedModel
    from quidpro.ensemble.runner import Executor


class PlainConsole(Console):
    """A console for model text: no markup, no emoji codes, control characters shown.

    Names, units, docs and titles come from model files (and the run store), so they
    may hold ``[/]``, ``:smile:`` or terminal escape sequences; every string printed
    or put in a table passes :meth:`render_str`, which here never reads markup and
    shows control characters as hex escapes. Styling is done with Rich objects, not markup.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:  # noqa: D102
        return super().render_str(plain(text), **kwargs)


# Piped output (files, CI logs) gets a wide page rather than the 80 columns Rich assumes,
# unless COLUMNS says how wide (Rich reads it when width is None).
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit() else 120
console = PlainConsole(width=_WIDTH, markup=False, emoji=False)
err_console = PlainConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and leave with exit code ``code``."""
    err_console.print(plain(message), markup=False)
    raise typer.Exit(code)


def as_flags(message: str, flags: Mapping[str, str]) -> str:
    """``message`` with library parameter names replaced by the flags that set them.

    A name with an underscore (``n_runs``, ``batch_size``) is unambiguous and replaced
    wherever it stands as a word; a plain word (``dt``, ``samples``) only where it opens
    the message ("dt must be positive"), so that prose and model names stay untouched.
    """
    for name, flag in flags.items():
        if "_" in name:
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", flag, message)
        else:
            message = re.sub(rf"^{re.escape(name)}(?!\w)", flag, message)
    return message


@contextmanager
def handled(flags: Mapping[str, str] | None = None) -> Iterator[None]:
    """Print a quidpro error as one clear message and exit: 1 for the model, 2 for usage."""
    try:
        yield
    except ConfigError as exc:
        fail(f"quidpro: error: {as_flags(str(exc), flags or {})}", 2)
    except QuidproError as exc:
        fail(str(exc), 1)
    except OSError as exc:  # a file the command had to read or write
        fail(f"quidpro: error: {exc}", 1)
    except KeyboardInterrupt:
        fail("quidpro: interrupted", 130)


def command(fn: Callable[..., Any] | None = None, *, flags: Mapping[str, str] | None = None) -> Any:
    """Run ``fn`` inside :func:`handled`, keeping its signature for Typer.

    Use bare (``command(fn)``) or with the parameter-to-flag map of the command
    (``command(fn, flags={"n_runs": "--runs"})``).
    """

    def wrap(body: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(body)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with handled(flags):
                return body(*args, **kwargs)

        return wrapper

    return wrap if fn is None else wrap(fn)


def load_model(model: str) -> LoadedModel:
    """The model a MODEL argument names (a file or a built-in), checked and compiled."""
    import quidpro

    return quidpro.load(model)


def model_text(m: LoadedModel) -> str:
    """The text of the file ``m`` was read from (hashed for the run store)."""
    return Path(m.spec.file).read_text(encoding="utf-8-sig")


@contextmanager
def executor(m: LoadedModel, dask: str | None) -> Iterator[Executor | None]:
    """None (run here) or a connected Dask executor, closed on exit."""
    if dask is None:
        yield None
        return
    from quidpro.ensemble.distributed import DaskExecutor

    with DaskExecutor(dask, model_text(m), m.spec.file) as ex:
        yield ex
