"""What every subcommand shares: error handling, --set parsing, console."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from quidpro.errors import ConfigError, QuidproError

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


def parse_sets(items: list[str] | None) -> dict[str, float]:
    """``NAME=VALUE`` pairs from --set."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set takes NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--set {name.strip()}: {value!r} is not a number") from None
    return out


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
