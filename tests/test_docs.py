"""Every ``console`` and ``python`` block of README.md and docs/*.md runs: the docs cannot rot.

How to write a block so that this test reads it right:

- ```` ```python ```` blocks are executed, in page order, in one namespace per page,
  with a fresh temporary folder as the working directory.
- ```` ```console ```` blocks: a line starting with ``$ `` is a command (a trailing
  backslash continues it on the next line; text after an unquoted ``#`` is a comment);
  every other line is shown output and is not checked. Each command must be
  ``quidpro ...`` (or ``.venv/bin/quidpro ...``); it runs through Typer's test runner
  in the page's folder, after the page's earlier blocks, and must exit 0.
- A block that should not run here (a 10,000-member ensemble, a cluster, a made-up run
  id) carries the word ``illustration`` on its opening line: ```` ```console
  illustration ```` or ```` ```python illustration ````. Its ``quidpro`` commands are
  still parsed, so an unknown flag fails the test. Put a quick executed example beside
  it when it teaches something.
- ```` ```sh ````, ```` ```bash ```` and ```` ```shell ```` blocks must be marked
  ``illustration``: commands for people to run are ``console`` blocks.
- An HTML comment ``<!-- file: NAME -->`` on the line before a block writes the block's
  text to ``NAME`` in the page's folder before the next block runs (a model file that a
  later command reads).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from quidpro.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
FILE_NOTE = re.compile(r"<!--\s*file:\s*(\S+)\s*-->\s*\n$")
CHECKED = {"console", "python"}
SHELLS = {"sh", "bash", "shell"}
QUIDPRO = ("quidpro", ".venv/bin/quidpro")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int
    language: str
    illustration: bool
    text: str
    writes: str | None  # the file a <!-- file: NAME --> comment names

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        words = m.group(1).split()
        note = FILE_NOTE.search(text[max(0, m.start() - 200) : m.start()])
        out.append(
            Block(
                page=page,
                line=text.count("\n", 0, m.start()) + 1,
                language=words[0] if words else "",
                illustration="illustration" in words[1:],
                text=m.group(2),
                writes=note.group(1) if note else None,
            )
        )
    return out


def commands(block: Block) -> Iterator[list[str]]:
    """The ``$ `` commands of a console block, as argument lists (continuations joined)."""
    pending = ""
    for raw in block.text.splitlines():
        if not pending and not raw.startswith("$ "):
            continue  # shown output
        line = raw[2:] if not pending else raw
        pending += line.rstrip("\\").rstrip() + " "
        if not line.rstrip().endswith("\\"):
            yield shlex.split(pending, comments=True)
            pending = ""
    assert not pending, f"{block.where}: a command ends in a backslash"


def quidpro_args(block: Block, argv: list[str]) -> list[str]:
    """The arguments of a ``quidpro`` command line; anything else fails the test."""
    assert argv, f"{block.where}: an empty command"
    assert argv[0] in QUIDPRO, f"{block.where}: {argv[0]!r} is not quidpro; mark the block"
    assert not {"|", ">", "<", "&&", ";"} & set(argv), f"{block.where}: shell syntax in {argv}"
    return argv[1:]


def parse_only(args: list[str]) -> None:
    """Parse a command line as ``quidpro`` would, without running it: an unknown
    command or flag raises Typer's usage error ("No such option: --rnus")."""
    cmd: Any = typer.main.get_command(app)
    ctx = cmd.make_context("quidpro", list(args))
    while isinstance(cmd, TyperGroup):  # quidpro, and command groups such as `runs`
        name, cmd, rest = cmd.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        ctx = cmd.make_context(name, rest, parent=ctx)


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_pages_have_blocks_to_run() -> None:
    """The reader below finds the blocks (else every page would pass vacuously)."""
    found = [b for page in PAGES for b in blocks(page)]
    assert sum(b.language in CHECKED and not b.illustration for b in found) >= 10
    readme = blocks(ROOT / "README.md")
    assert any(b.language == "console" and not b.illustration for b in readme)
    assert any(b.language == "python" and not b.illustration for b in readme)


def test_shell_blocks_are_illustrations() -> None:
    bad = [b.where for p in PAGES for b in blocks(p) if b.language in SHELLS and not b.illustration]
    assert not bad, f"write these as ```console blocks or mark them illustration: {bad}"


def test_parse_only_refuses_an_unknown_flag() -> None:
    parse_only(["ensemble", "nk_russia", "--runs", "5", "--seed", "1"])
    parse_only(["runs", "export", "ID", "-o", "x.csv"])
    with pytest.raises(Exception, match="No such option: --rnus"):
        parse_only(["ensemble", "nk_russia", "--rnus", "5"])
    with pytest.raises(Exception, match="No such command 'exprot'"):
        parse_only(["runs", "exprot", "ID"])
    with pytest.raises(Exception, match="Missing parameter: output"):
        parse_only(["sensitivity", "nk_russia", "--at", "2025-06-01"])


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_the_blocks_of_the_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__doc__"}
    runner = CliRunner()
    for block in blocks(page):
        if block.writes is not None:
            (tmp_path / block.writes).write_text(block.text, encoding="utf-8")
        if block.language == "console":
            argvs = list(commands(block))
            assert argvs or block.illustration, f"{block.where}: a console block with no $ command"
            for argv in argvs:
                args = quidpro_args(block, argv)
                if block.illustration:
                    parse_only(args)
                    continue
                result = runner.invoke(app, args)
                assert result.exit_code == 0, (
                    f"{block.where}: $ {shlex.join(argv)}\n{result.output}"
                )
        elif block.language == "python" and not block.illustration:
            code = compile(block.text, block.where, "exec")
            exec(code, namespace)
    assert os.getcwd() == str(tmp_path)
