"""The flagship's claims (H1-H4 and the observable C-claims) as yes/no questions.

Each definition states its thresholds and why; they are the operational reading of
/CLAIMS.md's headline claims. Dates are after the calibration cutoff (19 June 2024):
these are forecasts of the model, not fits. Paragraph numbers refer to the article as
counted in the model's ``claims:`` section.
"""

from __future__ import annotations

import numpy as np

from quidpro.analysis.claims import ClaimSet, ClaimTest, Indicator, Runs, Variant
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.errors import ConfigError

VARIANTS = {
    "baseline": Variant(),
    "ceasefire_2025": Variant("ceasefire_2025"),
    "loop_cut": Variant(sets={"loop_c9_strength": 0.0}),
    "sanctions_restored": Variant("sanctions_restored"),
    "no_treaty": Variant(sets={"treaty_threshold": 1.0}),
    "missile_tech_transfer": Variant("missile_tech_transfer"),
}

CEASE = "2025-01-01"


def _h1(r: Runs) -> np.ndarray:
    persists = r.min("baseline", "partnership_intensity", "2024-07-01", "2035-12-31") >= 0.5
    p0 = r.at("ceasefire_2025", "partnership_intensity", CEASE)
    halves = r.at("ceasefire_2025", "partnership_intensity", "2027-01-01") <= 0.5 * p0
    base = r.mean("baseline", "containers_per_month", "2025-07-01", "2026-12-31")
    after = r.mean("ceasefire_2025", "containers_per_month", "2025-07-01", "2026-12-31")
    stops = after <= 0.1 * np.maximum(base, 1.0)
    out: np.ndarray = persists & halves & stops
    return out


def _h2(r: Runs) -> np.ndarray:
    base = r.at("baseline", "shells_shipped", "2035-12-31")
    cut = r.at("loop_cut", "shells_shipped", "2035-12-31")
    cap0 = r.at("baseline", "nk_shell_production_capacity", "2019-01-01")
    grows = r.at("baseline", "nk_shell_production_capacity", "2030-01-01") >= 1.3 * cap0
    out: np.ndarray = (cut <= 0.75 * base) & grows
    return out


def _h3(r: Runs) -> np.ndarray:
    unlikely = r.max("baseline", "unsc_sanctions_likelihood", "2024-07-01", "2035-12-31") <= 0.1
    gap = r.mean("baseline", "nk_brinkmanship", "2026-01-01", "2035-12-31") - r.mean(
        "sanctions_restored", "nk_brinkmanship", "2026-01-01", "2035-12-31"
    )
    out: np.ndarray = unlikely & (gap >= 0.05)
    return out


def _h4(r: Runs) -> np.ndarray:
    def p(v: str) -> np.ndarray:
        return r.mean(v, "sk_arms_ukraine_pressure", "2026-01-01", "2035-12-31")

    base = p("baseline")
    out: np.ndarray = (p("missile_tech_transfer") >= base + 0.02) & (p("no_treaty") <= base - 0.02)
    return out


TESTS = (
    ClaimTest(
        "H1",
        "While the war lasts the partnership persists; after a ceasefire it decays (C2).",
        "baseline partnership_intensity >= 0.5 from mid-2024 to 2035; with a ceasefire on "
        "2025-01-01 it halves within two years and mean containers a month over "
        "2025-07..2026-12 fall to at most 10% of the baseline's",
        ("baseline", "ceasefire_2025"),
        ("partnership_intensity", "containers_per_month"),
        _h1,
    ),
    ClaimTest(
        "H2",
        "The arms-for-resources cycle feeds itself: the reinforcing loop C9 drives the "
        "growth of North Korean supply while Russian demand lasts.",
        "cutting loop C9 (loop_c9_strength = 0) lowers cumulative shells shipped by 2035 "
        "by at least 25%, and with the loop capacity grows by at least 30% by 2030",
        ("baseline", "loop_cut"),
        ("shells_shipped", "nk_shell_production_capacity"),
        _h2,
    ),
    ClaimTest(
        "H3",
        "With the Russian veto new UNSC sanctions stay unlikely, and brinkmanship rises (C18).",
        "baseline unsc_sanctions_likelihood <= 0.1 at all times from mid-2024 to 2035, and "
        "mean nk_brinkmanship 2026-2035 at least 0.05 higher than without the veto "
        "(scenario sanctions_restored)",
        ("baseline", "sanctions_restored"),
        ("unsc_sanctions_likelihood", "nk_brinkmanship"),
        _h3,
    ),
    ClaimTest(
        "H4",
        "The deeper the alliance, the more likely South Korea arms Ukraine directly (C23).",
        "mean sk_arms_ukraine_pressure 2026-2035 at least 0.02 higher with a deeper alliance "
        "(missile_tech_transfer) and at least 0.02 lower with a shallower one (no treaty)",
        ("baseline", "missile_tech_transfer", "no_treaty"),
        ("sk_arms_ukraine_pressure",),
        _h4,
    ),
    ClaimTest(
        "C7",
        "North Korean shipments to Russia by sea and rail continue.",
        "baseline containers_per_month >= 300 in every month of 2025",
        ("baseline",),
        ("containers_per_month",),
        lambda r: r.min("baseline", "containers_per_month", "2025-01-01", "2025-12-31") >= 300,
    ),
    ClaimTest(
        "C9",
        "Russian currency and materials grow North Korea's arms industry.",
        "baseline nk_shell_production_capacity on 2026-01-01 at least 20% above 2019's",
        ("baseline",),
        ("nk_shell_production_capacity",),
        lambda r: (
            r.at("baseline", "nk_shell_production_capacity", "2026-01-01")
            >= 1.2 * r.at("baseline", "nk_shell_production_capacity", "2019-01-01")
        ),
    ),
    ClaimTest(
        "C10",
        "The trade erodes the sanctions regime.",
        "baseline sanctions_regime_strength on 2026-01-01 at least 0.1 below its value on "
        "2022-01-01",
        ("baseline",),
        ("sanctions_regime_strength",),
        lambda r: (
            r.at("baseline", "sanctions_regime_strength", "2026-01-01")
            <= r.at("baseline", "sanctions_regime_strength", "2022-01-01") - 0.1
        ),
    ),
    ClaimTest(
        "C11",
        "Russian help brings North Korean reconnaissance satellites into orbit.",
        "baseline satellites_in_orbit (expected number) at least 1 on 2026-01-01",
        ("baseline",),
        ("satellites_in_orbit",),
        lambda r: r.at("baseline", "satellites_in_orbit", "2026-01-01") >= 1.0,
    ),
    ClaimTest(
        "C14",
        "Russia loosens North Korea's dependence on China.",
        "baseline china_share_of_nk_trade averaged over 2025 at most 0.8 (about 0.95 in 2019)",
        ("baseline",),
        ("china_share_of_nk_trade",),
        lambda r: r.mean("baseline", "china_share_of_nk_trade", "2025-01-01", "2025-12-31") <= 0.8,
    ),
    ClaimTest(
        "C17",
        "Closer ties with Moscow come with more frequent missile launches.",
        "baseline nk_missile_launches_per_year averaged over 2024-2026 at least 1.5 times its "
        "2019-2021 average",
        ("baseline",),
        ("nk_missile_launches_per_year",),
        lambda r: (
            r.mean("baseline", "nk_missile_launches_per_year", "2024-01-01", "2026-12-31")
            >= 1.5 * r.mean("baseline", "nk_missile_launches_per_year", "2019-01-01", "2021-12-31")
        ),
    ),
    ClaimTest(
        "C22",
        "Beijing grows warier as the partnership deepens.",
        "baseline chinese_discomfort on 2026-01-01 at least 0.1 above its value on 2021-01-01",
        ("baseline",),
        ("chinese_discomfort",),
        lambda r: (
            r.at("baseline", "chinese_discomfort", "2026-01-01")
            >= r.at("baseline", "chinese_discomfort", "2021-01-01") + 0.1
        ),
    ),
)

# The next observations of ledger indicators the model sees (first reports after the
# cutoff): which of them would tell most about each claim.
INDICATORS = (
    Indicator("containers_shipped_nk_to_ru", "containers_shipped", "2024-12-31"),
    Indicator("containers_shipped_nk_to_ru", "containers_shipped", "2025-06-30"),
    Indicator("artillery_shells_nk_to_ru", "shells_shipped", "2024-12-31"),
    Indicator("china_nk_trade_value", "china_nk_trade_value", "2024", "year"),
    Indicator("nk_missiles_launched_per_year", "nk_missile_launches_per_year", "2024", "year"),
    Indicator("nk_munitions_factory_utilization", "nk_capacity_utilisation", "2024-12-31"),
    Indicator("russia_shell_production_annual", "russian_domestic_supply", "2024", "year"),
)

FLAGSHIP = ClaimSet(VARIANTS, TESTS, INDICATORS)


def claim_set(model: CompiledLike) -> ClaimSet:
    """The claim tests defined for a model (today: the flagship)."""
    name = compiled_of(model).model.name
    if name == "nk_russia":
        return FLAGSHIP
    raise ConfigError(f"no claim tests are defined for model {name!r} (only nk_russia)")
