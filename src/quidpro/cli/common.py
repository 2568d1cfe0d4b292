"""What every subcommand shares: error handling, --set parsing, console."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from quidpro.errors import ConfigError, QuidproError
from quidpro.model.spec import Model

# Piped output (files, CI logs) gets a wide page rather than the 80 columns Rich assumes.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(message, markup=False)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Print a quidpro error as one clear message and exit: 1 for the model, 2 for usage."""
    try:
        yield
    except ConfigError as exc:
        fail(f"quidpro: error: {exc}", 2)
    except QuidproError as exc:
        fail(str(exc), 1)
    except OSError as exc:  # a file the command had to read or write
        fail(f"quidpro: error: {exc}", 1)
    except KeyboardInterrupt:
        fail("quidpro: interrupted", 130)


def parse_sets(items: list[str] | None, model: Model | None = None) -> dict[str, float]:
    """``NAME=VALUE`` pairs from --set. With ``model`` (one with ``time.origin``), a
    time constant may be set by date: ``--set ceasefire_time=2025-07-01``."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--set takes NAME=VALUE, got {item!r}")
        try:
            out[name] = float(value)
            continue
        except ValueError:
            pass
        if not _DATE.match(value.strip()):
            raise ConfigError(f"--set {name}: {value!r} is not a number") from None
        out[name] = _time_of_date(name, value.strip(), model)
    return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _time_of_date(name: str, value: str, model: Model | None) -> float:
    """The model time of ``--set NAME=YYYY-MM-DD``, for a time constant of a model with
    an origin."""
    from quidpro.model.calendar import to_time

    if model is None or model.time.origin is None:
        what = f"model {model.name!r} has no time.origin" if model else "this command"
        raise ConfigError(
            f"--set {name}={value}: {what} cannot set a constant by date; give a number"
        )
    c = model.constants.get(name)
    t = model.time
    assert t.origin is not None
    if (
        c is not None
        and c.units
        and t.units
        and c.units.strip().rstrip("s") != t.units.strip().rstrip("s")
    ):
        raise ConfigError(
            f"--set {name}={value}: {name!r} is in {c.units}, not in the model's time "
            f"units ({t.units}); only a time constant can be set by date"
        )
    return to_time(value, t.origin, t.units, t.start)


def command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` inside :func:`handled`, keeping its signature for Typer."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with handled():
            return fn(*args, **kwargs)

    return wrapper


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
