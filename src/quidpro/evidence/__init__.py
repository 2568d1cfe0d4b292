"""Evidence ledgers: sourced, dated observations a model is calibrated and judged on."""

from quidpro.evidence.ledger import (
    EvidenceError,
    Ledger,
    Row,
    builtin_ledger,
    default_ledger,
    parse_ledger,
    read_ledger,
)

__all__ = [
    "EvidenceError",
    "Ledger",
    "Row",
    "builtin_ledger",
    "default_ledger",
    "parse_ledger",
    "read_ledger",
]
