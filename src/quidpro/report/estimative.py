"""Estimative language of ICD 203 (US Intelligence Community Directive 203, 2015).

A probability maps to one of seven terms; the brief prints this table so that a reader
can map each term back to numbers. The confidence level says how far the probability
itself can be trusted; ICD 203 keeps the two apart, and so does the brief.
"""

from __future__ import annotations

from dataclasses import dataclass

# (upper bound of the band, term, ICD 203's synonym); a probability p falls in the
# first band whose upper bound is >= p.
SCALE: tuple[tuple[float, str, str], ...] = (
    (0.05, "almost no chance", "remote"),
    (0.20, "very unlikely", "highly improbable"),
    (0.45, "unlikely", "improbable"),
    (0.55, "roughly even chance", "roughly even odds"),
    (0.80, "likely", "probable"),
    (0.95, "very likely", "highly probable"),
    (1.00, "almost certain", "nearly certain"),
)


def term(p: float) -> str:
    """The ICD 203 term for probability ``p`` (clipped to [0, 1])."""
    p = min(max(float(p), 0.0), 1.0)
    for upper, word, _ in SCALE:
        if p <= upper:
            return word
    return SCALE[-1][1]  # pragma: no cover - p <= 1 always matches


def mapping_rows() -> list[tuple[str, str, str]]:
    """The printed mapping: (term, synonym, probability range in percent)."""
    rows, lower = [], 0.0
    for upper, word, synonym in SCALE:
        rows.append((word, synonym, f"{100 * lower:g}–{100 * upper:g}%"))
        lower = upper
    return rows


@dataclass(frozen=True)
class Confidence:
    """A confidence level (high, moderate, low) and the reason for it."""

    level: str  # "high" | "moderate" | "low"
    reason: str


CONFIDENCE_RULE = (
    "high: the ensemble draws from a calibrated posterior and the whole 95% interval of "
    "the probability lies in one band of the scale; moderate: one of the two holds; "
    "low: neither (a prior ensemble whose interval straddles bands)."
)


def confidence(ci: tuple[float, float], calibrated: bool) -> Confidence:
    """Confidence in a judgment from its interval and the basis of the ensemble."""
    stable = term(ci[0]) == term(ci[1])
    basis = "a calibrated posterior" if calibrated else "the prior distributions"
    band = "within one band" if stable else f"from {term(ci[0])} to {term(ci[1])}"
    reason = f"drawn from {basis}; the 95% interval runs {band}"
    if calibrated and stable:
        return Confidence("high", reason)
    if calibrated or stable:
        return Confidence("moderate", reason)
    return Confidence("low", reason)
