"""``quidpro brief``: the model's findings as a brief (Markdown, HTML or PDF)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from quidpro.cli.common import command, console, err_console, fail
from quidpro.cli.options import seed_option
from quidpro.errors import ConfigError

FORMATS = {".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf"}


def brief_cmd(
    model: Annotated[str, typer.Argument(help="A model file or a built-in name.", metavar="MODEL")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Write the brief to FILE.md, FILE.html or FILE.pdf.")
    ],
    scenarios: Annotated[
        str | None,
        typer.Option(help="Scenarios to compare, comma-separated (default: all, baseline first)."),
    ] = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Ensemble members per scenario.")
    ] = 1000,
    seed: Annotated[int, seed_option("Random seed (same seed, same numbers).")] = 1,
) -> None:
    """Write a brief of MODEL's findings (Markdown, HTML or PDF).

    Bottom line up front, key judgments in ICD 203 estimative language with confidence,
    headline claims H1-H4, the scenario table, a fan chart and the loop view, the
    assumptions register, indicators and warnings, sources.

    Examples:
      quidpro brief nk_russia -o brief.html

      quidpro brief nk_russia --scenarios baseline,ceasefire_2025 --runs 2000 -o brief.pdf

      quidpro brief nk_russia -o brief.md     # figures are written beside it
    """
    import quidpro
    from quidpro.report.brief import analyse, compose
    from quidpro.report.doc import to_html, to_markdown, to_pdf

    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ConfigError(f"-o must end in .md, .html or .pdf, got {out.name!r}")
    if runs < 10:
        raise ConfigError(f"--runs must be at least 10, got {runs}")
    _check_writable(out)  # before minutes of ensembles, not after
    m = quidpro.load(model)
    names = None
    if scenarios is not None:
        names = [s.strip() for s in scenarios.split(",") if s.strip()]
        for s in names:
            m.overrides(s)  # an unknown scenario is a usage error, before any work
    err_console.print(f"{m.name}: {runs:,} runs per scenario…", style="dim")
    doc = compose(analyse(m, names, runs, seed))
    if fmt == "md":
        folder = out.parent
        text, figures = to_markdown(doc, figure_dir="")
        renamed = {f"{out.stem}-{k}": v for k, v in figures.items()}
        for old in figures:
            text = text.replace(f"]({old})", f"]({out.stem}-{old})")
        out.write_text(text, encoding="utf-8")
        for name, png in renamed.items():
            (folder / name).write_bytes(png)
    elif fmt == "html":
        out.write_text(to_html(doc), encoding="utf-8")
    else:
        out.write_bytes(to_pdf(to_html(doc)))
    console.print(f"wrote {out}")


def _check_writable(out: Path) -> None:
    """Exit 1 unless ``out`` can be written: its folder exists and is writable, it is no folder.

    (A Markdown brief writes its figures beside it, in the same folder.)
    """
    folder = out.parent
    problem = None
    if out.is_dir():
        problem = "it is a folder"
    elif not folder.exists():
        problem = f"the folder {folder} does not exist"
    elif not folder.is_dir():
        problem = f"{folder} is not a folder"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = f"the folder {folder} is not writable"
    elif out.exists() and not os.access(out, os.W_OK):
        problem = "the file is not writable"
    if problem is not None:
        fail(f"quidpro: error: cannot write the brief to {out}: {problem}", 1)


def register(app: typer.Typer) -> None:
    """Add ``brief`` to the ``quidpro`` command."""
    app.command("brief")(command(brief_cmd))
