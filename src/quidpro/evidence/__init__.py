"""Evidence ledgers: sourced, dated observations a model is calibrated and judged on."""

from quidpro.evidence.ledger import (
    MAX_EVIDENCE_BYTES,
    EvidenceError,
    Ledger,
    Row,
    builtin_ledger,
    default_ledger,
    parse_ledger,
    read_ledger,
)

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "EvidenceError",
    "Ledger",
    "Row",
    "builtin_ledger",
    "default_ledger",
    "parse_ledger",
    "read_ledger",
]
