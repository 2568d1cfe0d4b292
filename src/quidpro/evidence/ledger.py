"""Read an evidence ledger: sourced, dated observations in a CSV file.

The columns that count are ``id``, ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``;
or a ``time`` column in model units for a model without ``time.origin``),
``indicator``, ``value``, ``kind`` and, optionally, ``confidence`` (high | medium |
low). Every other column (sources, notes) is kept as text for tables and plots.
Kinds: ``count``, ``cumulative`` and ``share`` are values; ``estimate_low`` is a lower
bound ("more than X"), ``estimate_high`` an upper bound ("up to X"); ``event`` rows are
shown, never fitted. A row without a value (a qualitative estimate) is kept and
shown, never fitted. Conflicting rows stay separate rows.

Every problem is an :class:`EvidenceError` that prints as ``file:line: message``, the
header being line 1 (line 0: the file as a whole). Numbers are written as in a model
file: ASCII digits, a point and an exponent (``1e6``), thousands separated by commas
(``1,000``) at most; ``1_000`` or other digits than 0-9 are refused. A file is read up to
:data:`MAX_EVIDENCE_BYTES` (``/dev/zero`` would otherwise be read for ever); a device
or a folder is refused before it is opened.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from quidpro.errors import QuidproError
from quidpro.model.limits import limit

KINDS = ("count", "cumulative", "share", "estimate_low", "estimate_high", "event")
VALUE_KINDS = ("count", "cumulative", "share")
BOUND_KINDS = ("estimate_low", "estimate_high")
CONFIDENCES = ("high", "medium", "low")
REQUIRED = ("id", "indicator", "value", "kind")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
# A number as a model file writes one (no underscores, ASCII digits only: float()
# also takes "1_000" and "١٢"); commas between thousands are removed before.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Bytes of one evidence file (50 MB), and the environment variable that raises it.
MAX_EVIDENCE_BYTES = ("QUIDPRO_MAX_EVIDENCE_BYTES", 50_000_000)


class EvidenceError(QuidproError):
    """A problem in an evidence file, at a line (the header is line 1)."""

    def __init__(self, message: str, file: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class DateSpan:
    """A date as precise as its source: the days ``[start, end)`` it may mean."""

    text: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def precision(self) -> str:
        """``year``, ``month`` or ``day``."""
        return {4: "year", 7: "month"}.get(len(self.text), "day")

    @property
    def middle(self) -> dt.date:
        """The date a point observation is read at: the day itself, mid-month or mid-year."""
        if self.precision == "day":
            return self.start
        return self.start + (self.end - self.start) / 2


def parse_date(text: str) -> DateSpan:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as a :class:`DateSpan` (ValueError if not)."""
    m = _DATE.match(text.strip())
    if m is None:
        raise ValueError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(m[1]), m[2], m[3]
    if month is None:
        return DateSpan(m[0], dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    mo = int(month)
    if not 1 <= mo <= 12:
        raise ValueError(f"not a date: {text!r} (month {mo})")
    first = dt.date(year, mo, 1)
    nxt = dt.date(year + (mo == 12), mo % 12 + 1, 1)
    if day is None:
        return DateSpan(m[0], first, nxt)
    try:
        d = dt.date(year, mo, int(day))
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None
    return DateSpan(m[0], d, d + dt.timedelta(days=1))


@dataclass(frozen=True)
class Row:
    """One observation of a ledger."""

    id: str
    line: int
    indicator: str
    kind: str
    value: float | None
    confidence: str | None
    date: DateSpan | None = None  # set when the file has a date column
    time: float | None = None  # set when the file has a time column (model units)
    fields: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def when(self) -> str:
        """The date or time as written."""
        return self.date.text if self.date is not None else f"{self.time:g}"

    @property
    def fitted_kind(self) -> bool:
        """A value or a bound with a number: a row a likelihood can use."""
        return self.kind != "event" and self.value is not None


@dataclass(frozen=True)
class Ledger:
    """The rows of an evidence file, in file order."""

    file: str
    rows: tuple[Row, ...]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def dated(self) -> bool:
        """True when rows carry calendar dates, False when model times."""
        return any(r.date is not None for r in self.rows)

    def before(self, cutoff: dt.date | float) -> Ledger:
        """Rows known before ``cutoff`` (a date, or a model time).

        A dated row counts once its whole span has passed (an annual total of 2023
        from 2024-01-01 on); a timed row when its time is below the cutoff.
        """
        return Ledger(self.file, tuple(r for r in self.rows if known_before(r, cutoff)))

    def after(self, cutoff: dt.date | float) -> Ledger:
        """The rows :meth:`before` leaves out."""
        return Ledger(self.file, tuple(r for r in self.rows if not known_before(r, cutoff)))

    def indicators(self) -> list[str]:
        """The indicators of the rows, in order of first appearance."""
        return list(dict.fromkeys(r.indicator for r in self.rows))


def known_before(row: Row, cutoff: dt.date | float) -> bool:
    """Whether ``row`` was known before ``cutoff`` (a date, or a model time)."""
    if row.date is not None:
        if not isinstance(cutoff, dt.date):
            raise TypeError("a dated ledger needs a date as cutoff")
        return row.date.end <= cutoff
    assert row.time is not None
    if isinstance(cutoff, dt.date):
        raise TypeError("a ledger in model time needs a model time as cutoff")
    return row.time < cutoff


def _number(text: str) -> float | None:
    t = text.strip().replace(",", "")
    if not t:
        return None
    if _NUMBER.fullmatch(t) is None:  # "1_000", "١٢", "inf", "nan": ValueError for the caller
        raise ValueError(f"{text!r} is not a number")
    v = float(t)
    if not math.isfinite(v):  # 1e999
        raise ValueError(f"{text!r} is not finite")
    return v


def _hint(text: str) -> str:
    """How to write a number that has underscores (as a model file would refuse them)."""
    return " (write 1000 or 1,000: no underscores)" if "_" in text else ""


def parse_ledger(lines: Iterable[str], file: str) -> Ledger:
    """Parse CSV text (lines) into a :class:`Ledger`; errors name ``file:line``."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise EvidenceError("the evidence file is empty (no header)", file, 1) from None
    except csv.Error as exc:
        raise EvidenceError(f"not a CSV file: {exc}", file, 1) from None
    cols = [h.strip() for h in header]
    has_date, has_time = "date" in cols, "time" in cols
    wanted = ["id", "date (or time)", *REQUIRED[1:]]
    missing = [c for c in wanted if c not in cols and not (c[:4] == "date" and has_date | has_time)]
    if missing:
        raise EvidenceError(
            f"missing column(s) {', '.join(missing)}; an evidence file has id, date "
            "(or time), indicator, value, kind and optionally confidence",
            file,
            1,
        )
    if has_date and has_time:
        raise EvidenceError("use either a date or a time column, not both", file, 1)
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise EvidenceError(f"duplicate column(s): {', '.join(dup)}", file, 1)
    rows: list[Row] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(cols):
                raise EvidenceError(
                    f"{len(cells)} fields where the header has {len(cols)}", file, line
                )
            rows.append(_row(dict(zip(cols, cells, strict=True)), file, line, has_date, seen))
    except csv.Error as exc:
        raise EvidenceError(f"CSV error: {exc}", file, reader.line_num or line) from None
    return Ledger(file, tuple(rows))


def _row(  # noqa: PLR0912 - one check per column, each with its own message
    rec: dict[str, str], file: str, line: int, dated: bool, seen: dict[str, int]
) -> Row:
    def bad(message: str) -> EvidenceError:
        return EvidenceError(message, file, line)

    rid = rec["id"].strip()
    if not rid:
        raise bad("empty id")
    if rid in seen:
        raise bad(f"duplicate id {rid!r} (first at line {seen[rid]})")
    seen[rid] = line
    indicator = rec["indicator"].strip()
    if not indicator:
        raise bad(f"{rid}: empty indicator")
    kind = rec["kind"].strip()
    if kind not in KINDS:
        raise bad(f"{rid}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    try:
        value = _number(rec["value"])
    except ValueError:
        raise bad(f"{rid}: value {rec['value']!r} is not a number{_hint(rec['value'])}") from None
    if kind == "share" and value is not None and value < 0:
        raise bad(f"{rid}: a share cannot be negative, got {value:g}")
    conf = rec.get("confidence", "").strip().lower() or None
    if conf is not None and conf not in CONFIDENCES:
        raise bad(f"{rid}: unknown confidence {conf!r}; use high, medium or low")
    date: DateSpan | None = None
    time: float | None = None
    if dated:
        text = rec["date"].strip()
        if not text:
            raise bad(f"{rid}: empty date")
        try:
            date = parse_date(text)
        except ValueError as exc:
            raise bad(f"{rid}: {exc}") from None
    else:
        try:
            time = _number(rec["time"])
        except ValueError:
            raise bad(f"{rid}: time {rec['time']!r} is not a number{_hint(rec['time'])}") from None
        if time is None:
            raise bad(f"{rid}: empty time")
    return Row(rid, line, indicator, kind, value, conf, date, time, rec)


def read_ledger(path: str | Path) -> Ledger:
    """Read an evidence CSV file (UTF-8, at most :data:`MAX_EVIDENCE_BYTES`).

    Raises:
        EvidenceError: The file cannot be read, is a folder or a device, is larger than
            the limit, or is not UTF-8 text (at the line of the first bad byte).
    """
    p = Path(path)
    file = str(p)
    cap = limit(MAX_EVIDENCE_BYTES)
    try:
        mode = os.stat(p).st_mode
        if stat.S_ISDIR(mode):
            raise EvidenceError("cannot read the evidence file: it is a folder", file, 0)
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):  # /dev/zero, a socket
            raise EvidenceError(
                "cannot read the evidence file: it is not a regular file (a device?)", file, 0
            )
        with p.open("rb") as f:  # at most one byte past the limit is read
            raw = f.read(cap + 1)
    except OSError as exc:
        raise EvidenceError(f"cannot read the evidence file: {exc}", file, 0) from None
    if len(raw) > cap:
        raise EvidenceError(
            f"the evidence file is larger than the limit of {cap:,} bytes; raise the "
            f"limit with {MAX_EVIDENCE_BYTES[0]}=N",
            file,
            0,
        )
    return parse_ledger(io.StringIO(decode_text(raw, file), newline=""), file)


def _line_at(raw: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset`` (LF, CRLF or a lone CR ends a line, as for csv)."""
    head = raw[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def decode_text(raw: bytes, file: str) -> str:
    """UTF-8 text of an evidence file's bytes (a leading byte-order mark dropped).

    Raises:
        EvidenceError: A NUL byte (a binary file, or UTF-16) or bytes that are not
            UTF-8, at the line where the first of them stands.
    """
    body = raw.removeprefix(codecs.BOM_UTF8)
    text, bad = "", -1
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    nul = body.find(b"\0")
    if nul >= 0 and (bad < 0 or nul < bad):
        raise EvidenceError(
            "not a text file: it holds a NUL byte (save it as a UTF-8 CSV file)",
            file,
            _line_at(body, nul),
        )
    if bad >= 0:
        raise EvidenceError(
            f"not UTF-8 text: byte 0x{body[bad : bad + 1].hex()} cannot be read "
            "(save the file as UTF-8)",
            file,
            _line_at(body, bad),
        )
    return text


def builtin_ledger(model_file: str) -> Path | None:
    """The ledger shipped beside a model file (``NAME.evidence.csv``), if there is one."""
    p = Path(model_file)
    candidate = p.with_name(p.stem + ".evidence.csv")
    if candidate.exists():
        return candidate
    shipped = files("quidpro").joinpath("models", p.stem + ".evidence.csv")
    return Path(str(shipped)) if shipped.is_file() else None


def default_ledger(model_file: str, evidence: str | Path | None) -> Ledger:
    """The ledger given, or the one that ships with the model (an error if neither)."""
    if evidence is not None:
        return read_ledger(evidence)
    found = builtin_ledger(model_file)
    if found is None:
        from quidpro.errors import ConfigError

        raise ConfigError(
            f"no evidence file given, and the model {Path(model_file).name} ships none "
            "(an evidence file: id, date, indicator, value, kind)"
        )
    return read_ledger(found)
