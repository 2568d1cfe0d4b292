"""A tiny document model with two writers, so the Markdown and HTML briefs say the same.

Blocks are headings, paragraphs, bullet lists, tables and figures (PNG bytes). Text is
plain (the writers escape it); ``**bold**`` inside a paragraph is the one markup kept.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape


@dataclass
class Heading:
    """A section heading."""

    text: str
    level: int = 2


@dataclass
class Para:
    """A paragraph; ``note`` ones are set small."""

    text: str
    note: bool = False


@dataclass
class Bullets:
    """A bullet list."""

    items: Sequence[str]


@dataclass
class Table:
    """A table of text cells; ``numeric`` columns are right-aligned."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool] = ()  # right-aligned columns


@dataclass
class Figure:
    """A PNG figure with its caption."""

    png: bytes
    caption: str
    name: str  # file name when written beside a Markdown file


@dataclass
class Document:
    """A titled list of blocks."""

    title: str
    blocks: list[Heading | Para | Bullets | Table | Figure] = field(default_factory=list)

    def add(self, *blocks: Heading | Para | Bullets | Table | Figure) -> None:
        """Append blocks in order."""
        self.blocks.extend(blocks)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document, figure_dir: str | None = None) -> tuple[str, dict[str, bytes]]:
    """The document as Markdown, and the figures to write beside it (name → PNG).

    With ``figure_dir`` None the figures are left out (a note says where they are).
    """
    lines = [f"# {doc.title}", ""]
    files: dict[str, bytes] = {}
    for b in doc.blocks:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            lines += [f"*{b.text}*" if b.note else b.text, ""]
        elif isinstance(b, Bullets):
            lines += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, Table):
            align = [
                "---:" if (i < len(b.numeric) and b.numeric[i]) else "---"
                for i in range(len(b.header))
            ]
            lines.append("| " + " | ".join(_md_cell(h) for h in b.header) + " |")
            lines.append("|" + "|".join(align) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif isinstance(b, Figure):
            if figure_dir is None:
                lines += [
                    f"*Figure: {b.caption} (in the HTML and PDF versions of this brief).*",
                    "",
                ]
            else:
                files[b.name] = b.png
                path = f"{figure_dir}/{b.name}" if figure_dir else b.name
                lines += [f"![{b.caption}]({path})", "", f"*{b.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n", files


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(text))


CSS = """
body { font-family: "DejaVu Sans", system-ui, sans-serif; font-size: 10.5pt; line-height: 1.45;
       color: #1d2733; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 17pt; margin-bottom: .2rem; } h2 { font-size: 13pt; margin-top: 1.4rem;
border-bottom: 1px solid #d6dbe1; } h3 { font-size: 11pt; }
table { border-collapse: collapse; margin: .5rem 0; font-size: 9.5pt; }
th, td { border: 1px solid #c9d0d8; padding: .2rem .45rem; vertical-align: top; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #5b6673; font-size: 9pt; } figure { margin: .8rem 0; } img { max-width: 100%; }
figcaption { color: #5b6673; font-size: 9pt; }
@page { size: A4; margin: 16mm 14mm; }
"""


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML page (figures inline as data URIs)."""
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            cls = " class='note'" if b.note else ""
            out.append(f"<p{cls}>{_inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{escape(h)}</th>" for h in b.header)
            body = []
            for row in b.rows:
                cells = []
                for i, c in enumerate(row):
                    num = i < len(b.numeric) and b.numeric[i]
                    cells.append(
                        f"<td class='num'>{escape(c)}</td>" if num else f"<td>{_inline(c)}</td>"
                    )
                body.append("<tr>" + "".join(cells) + "</tr>")
            out.append(
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            )
        elif isinstance(b, Figure):
            data = base64.b64encode(b.png).decode("ascii")
            out.append(
                f"<figure><img alt='{escape(b.caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{escape(b.caption)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def to_pdf(html: str) -> bytes:
    """The HTML page as PDF.

    WeasyPrint renders it; it needs Debian's pango (scripts/install-system-deps.sh).
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango missing
        from quidpro.errors import ConfigError

        raise ConfigError(
            f"PDF needs WeasyPrint and the pango library ({exc}); install the 'web' extra "
            "and run scripts/install-system-deps.sh, or write .html or .md"
        ) from None
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
