"""Calibrate the flagship model ``nk_russia`` on the evidence ledger.

Usage (from the repository root)::

    .venv/bin/python scripts/calibrate_nk_russia.py [OBSERVATIONS_CSV] [--no-fit] [--no-plots]

Without a path the ledger is read from ``../shared/evidence/observations.csv``
relative to the repository root. The script

1. builds four target series from the ledger (cumulative containers shipped
   North Korea -> Russia, cumulative shells, missiles launched per year,
   China-North Korea trade per year), choosing among conflicting estimates as
   documented in ``docs/calibration.md``;
2. fits a few constants with :func:`scipy.optimize.least_squares`, starting
   from the values in the model file and staying inside each constant's
   ``range`` (the fit works in the unit square of those ranges);
3. prints the fitted values, the residual of every observation and the RMSE
   of every series, and a YAML snippet to paste into the model file;
4. draws ``docs/img/calibration_*.png`` (model against observations, and
   residuals) and rewrites the generated block of ``docs/calibration.md``.

All model runs of one Jacobian are done as one batched simulation, so a full
fit takes a minute or two on two cores. ``--no-fit`` only evaluates and plots
the model as it stands.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

import quidpro
from quidpro.model.calendar import to_time

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "evidence" / "observations.csv"
MODEL = ROOT / "src" / "quidpro" / "models" / "nk_russia.yaml"
IMG = ROOT / "docs" / "img"
DOC = ROOT / "docs" / "calibration.md"
BEGIN, END = "<!-- calibration:begin -->", "<!-- calibration:end -->"

# The constants the fit may move, each with the value the project assumed before
# calibration (its prior). The fit stays inside each constant's `range` in the model file
# and is pulled gently toward the prior (PRIOR_WEIGHT), so that constants the data barely
# identify do not run to the edge of their range for a negligible gain.
FIT: dict[str, float] = {
    "ru_reserve_initial": 5.0e6,  # when Russia runs short: timing of the first shipments
    "rail_capacity_containers": 600.0,  # the late-2023 peak pace (sea + rail)
    "logistics_setup_months": 2.0,  # how fast the shipping chain is set up
    "russian_fire_rate_full": 450000.0,  # Russia's long-run import need: the 2024 pace
    "ru_restock_months": 6.0,  # how hard Russia restocks: the late-2023 peak
    "shells_per_container": 250.0,  # containers -> shells
    "launch_base_per_year": 20.0,  # missile launches
    "launch_brinkmanship_weight": 1.5,
    "covid_launch_dampening": 0.7,
    "covid_closure_depth": 0.85,  # China-North Korea trade
    "border_reopen_time": 40.0,
    "border_reopen_months": 18.0,
}
PRIOR_WEIGHT = 0.3  # per constant, on its position in the unit square of its range


# ---------------------------------------------------------------- observations


@dataclass
class Target:
    """One observation the model is compared with."""

    series: str  # containers | shells | launches | china_trade
    obs_id: str  # OBS id(s), e.g. "OBS0011+OBS0012"
    variable: str  # model variable
    time: float  # model time (months); for annual values the year's start
    value: float  # the value the fit aims at
    kind: str = "point"  # point | lower (one-sided: model >= value) | upper | annual
    weight: float = 1.0
    note: str = ""


@dataclass
class Ledger:
    rows: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Ledger:
        with path.open(newline="", encoding="utf-8") as f:
            return cls({r["id"]: r for r in csv.DictReader(f)})

    def value(self, obs_id: str) -> float:
        return float(self.rows[obs_id]["value"])

    def date(self, obs_id: str) -> str:
        return self.rows[obs_id]["date"]


def model_time(date: str, origin: object, units: str | None) -> float:
    """Model time of an ISO date; a YYYY-MM date is placed mid-month."""
    parts = date.split("-")
    if len(parts) == 1:
        return to_time(f"{parts[0]}-01-01", origin, units)  # type: ignore[arg-type]
    if len(parts) == 2:
        return to_time(f"{date}-01", origin, units) + 0.5  # type: ignore[arg-type]
    return to_time(date, origin, units)  # type: ignore[arg-type]


def build_targets(ledger: Ledger, origin: object, units: str | None) -> list[Target]:
    """The observations the fit uses, and the choices among conflicting ones."""

    def t(obs_id: str) -> float:
        return model_time(ledger.date(obs_id), origin, units)

    out: list[Target] = []
    # Cumulative containers North Korea -> Russia. OBS0002 is a single early shipment
    # (7-12 Sep 2023), read as the cumulative count by 12 Sep. Conflicting rows not fitted:
    # OBS0009 (2,000 in Nov 2023, low confidence, secondary recollection) and OBS0020
    # (>10,000 in Feb 2024, US figure that conflicts with Seoul's 6,700 of the same week).
    for obs_id, kind in [
        ("OBS0002", "point"),
        ("OBS0003", "point"),
        ("OBS0010", "point"),
        ("OBS0015", "point"),
        ("OBS0023", "point"),
        ("OBS0026", "point"),
    ]:
        out.append(
            Target(
                "containers", obs_id, "containers_shipped", t(obs_id), ledger.value(obs_id), kind
            )
        )
    # Shells: Seoul's capacity conversions come in 122 mm / 152 mm pairs; the fit aims at
    # the geometric midpoint of each pair. One-sided estimates enter as soft bounds.
    for lo, hi in [("OBS0011", "OBS0012"), ("OBS0017", "OBS0016")]:
        mid = math.sqrt(ledger.value(lo) * ledger.value(hi))
        out.append(
            Target(
                "shells",
                f"{lo}+{hi}",
                "shells_shipped",
                t(lo),
                mid,
                "point",
                note=f"geometric midpoint of {ledger.value(lo):,.0f}-{ledger.value(hi):,.0f}",
            )
        )
    for obs_id in ("OBS0006", "OBS0013"):
        out.append(
            Target(
                "shells",
                obs_id,
                "shells_shipped",
                t(obs_id),
                ledger.value(obs_id),
                "lower",
                weight=0.5,
                note="'more than' estimate, soft lower bound",
            )
        )
    out.append(
        Target(
            "shells",
            "OBS0027",
            "shells_shipped",
            t("OBS0027"),
            ledger.value("OBS0027"),
            "upper",
            weight=0.5,
            note="'up to' estimate, soft upper bound",
        )
    )
    # OBS0231 (Zelensky, 1.5 million, Feb 2024) is low confidence and flagged CONFLICTS:
    # reported in the plots, not fitted.
    # Missiles launched per year: the CNS database (one consistent definition).
    # OBS0148 (Japan MoD 59) and OBS0150 (CSIS 99) for 2022 are other definitions.
    for obs_id in ("OBS0131", "OBS0132", "OBS0133", "OBS0134", "OBS0135"):
        out.append(
            Target(
                "launches",
                obs_id,
                "nk_missile_launches_per_year",
                t(obs_id),
                ledger.value(obs_id),
                "annual",
            )
        )
    # China-North Korea trade, China customs.
    for obs_id in ("OBS0170", "OBS0171", "OBS0172", "OBS0173", "OBS0174"):
        out.append(
            Target(
                "china_trade",
                obs_id,
                "china_nk_trade_value",
                t(obs_id),
                ledger.value(obs_id),
                "annual",
            )
        )
    return out


# Observations shown in the figures but not fitted (conflicting or low confidence).
SHOWN_NOT_FITTED = {
    "containers": ["OBS0009", "OBS0020"],
    "shells": ["OBS0231"],
    "launches": ["OBS0148", "OBS0150"],
}

UNITS = {
    "containers": "containers",
    "shells": "shells",
    "launches": "missiles/year",
    "china_trade": "USD/year",
}


# ---------------------------------------------------------------- the model


class Evaluator:
    """Runs the model for a batch of parameter vectors and reads the targets."""

    def __init__(
        self, model: quidpro.LoadedModel, targets: list[Target], names: Sequence[str]
    ) -> None:
        self.model = model
        self.targets = targets
        self.names = list(names)
        self.variables = sorted({tg.variable for tg in targets})
        consts = model.spec.constants
        self.lo = np.array([consts[n].range[0] for n in names])  # type: ignore[index]
        self.hi = np.array([consts[n].range[1] for n in names])  # type: ignore[index]
        self.x0 = np.array([consts[n].value for n in names])
        self.prior = np.array([FIT.get(n, consts[n].value) for n in names])

    def to_x(self, u: np.ndarray) -> np.ndarray:
        return self.lo + u * (self.hi - self.lo)

    def to_u(self, x: np.ndarray) -> np.ndarray:
        return (x - self.lo) / (self.hi - self.lo)

    def run(self, xs: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Trajectories for parameter rows ``xs`` (runs x params): times, {var: [t, run]}."""
        xs = np.atleast_2d(xs)
        n = xs.shape[0]
        sets = {name: xs[:, i].copy() for i, name in enumerate(self.names)}
        if hasattr(self.model, "simulate"):
            tr = self.model.simulate(set=sets, n_runs=n)
            idx = {v: list(tr.names).index(v) for v in self.variables}
            return np.asarray(tr.times), {v: tr.values[:, idx[v], :] for v in self.variables}
        # Fallback: one run at a time through the documented API.
        frames = [self.model.run(set={k: float(v[j]) for k, v in sets.items()}) for j in range(n)]
        times = frames[0].index.to_numpy()
        return times, {
            v: np.stack([f[v].to_numpy() for f in frames], axis=1) for v in self.variables
        }

    def predictions(self, times: np.ndarray, traj: dict[str, np.ndarray]) -> np.ndarray:
        """Model value at each target, per run: [target, run]."""
        out = np.empty((len(self.targets), next(iter(traj.values())).shape[1]))
        for i, tg in enumerate(self.targets):
            y = traj[tg.variable]
            if tg.kind == "annual":
                mask = (times >= tg.time) & (times < tg.time + 12)
                out[i] = y[mask].mean(axis=0)
            else:
                out[i] = [np.interp(tg.time, times, y[:, j]) for j in range(y.shape[1])]
        return out

    def residuals(self, pred: np.ndarray) -> np.ndarray:
        """Weighted, scale-free residuals [target, run] (log ratios)."""
        res = np.empty_like(pred)
        for i, tg in enumerate(self.targets):
            off = 5.0 if tg.series == "launches" else 1.0
            r = np.log((pred[i] + off) / (tg.value + off))
            if tg.kind == "lower":
                r = np.minimum(r, 0.0)
            elif tg.kind == "upper":
                r = np.maximum(r, 0.0)
            res[i] = tg.weight * r
        return res

    def residual_fn(
        self,
    ) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
        """fun(u) and a batched finite-difference jac(u) for least_squares."""
        h = 1e-3

        u_prior = self.to_u(self.prior)

        def fun(u: np.ndarray) -> np.ndarray:
            times, traj = self.run(self.to_x(u)[None, :])
            data = self.residuals(self.predictions(times, traj))[:, 0]
            return np.concatenate([data, PRIOR_WEIGHT * (u - u_prior)])

        def jac(u: np.ndarray) -> np.ndarray:
            k = len(u)
            steps = np.where(u + h <= 1.0, h, -h)
            us = np.repeat(u[None, :], k + 1, axis=0)
            us[np.arange(1, k + 1), np.arange(k)] += steps
            times, traj = self.run(self.to_x(us))
            r = self.residuals(self.predictions(times, traj))
            return np.vstack([(r[:, 1:] - r[:, [0]]) / steps[None, :], PRIOR_WEIGHT * np.eye(k)])

        return fun, jac


# ---------------------------------------------------------------- reporting


def series_rmse(targets: list[Target], pred: np.ndarray) -> dict[str, float]:
    """Root-mean-square error per series, in the series' units (point and annual targets)."""
    out: dict[str, float] = {}
    for s in ("containers", "shells", "launches", "china_trade"):
        errs = [
            pred[i] - tg.value
            for i, tg in enumerate(targets)
            if tg.series == s and tg.kind in ("point", "annual")
        ]
        out[s] = float(np.sqrt(np.mean(np.square(errs)))) if errs else float("nan")
    return out


def fmt(v: float) -> str:
    if abs(v) >= 1e9:
        return f"{v / 1e9:.2f} bn"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f} M"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def report(
    ev: Evaluator, x: np.ndarray, pred: np.ndarray, cost0: float, cost: float, fitted: bool = True
) -> str:
    lines = [
        "### Fitted constants",
        "",
        "| constant | prior | "
        + ("fitted" if fitted else "value in the model file")
        + " | range |",
        "|---|---|---|---|",
    ]
    for name, a, b, lo, hi in zip(ev.names, ev.prior, x, ev.lo, ev.hi, strict=True):
        edge = " (at a bound)" if min(b - lo, hi - b) < 1e-3 * (hi - lo) else ""
        lines.append(f"| `{name}` | {fmt(a)} | {fmt(b)}{edge} | [{fmt(lo)}, {fmt(hi)}] |")
    how = (
        f"{cost0:.4f} at the start, {cost:.4f} after the fit"
        if fitted
        else f"{cost:.4f} (evaluation of the model file as it stands, no fit)"
    )
    lines += [
        "",
        f"Least-squares cost (half the sum of squared weighted log residuals plus "
        f"the prior pull, weight {PRIOR_WEIGHT}): {how}.",
        "",
        "### Residuals",
        "",
        "| series | observation | model time | observed | model | residual | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, tg in enumerate(ev.targets):
        kind = {"lower": " (lower bound)", "upper": " (upper bound)"}.get(tg.kind, "")
        lines.append(
            f"| {tg.series} | {tg.obs_id} | {tg.time:.2f} | {fmt(tg.value)}{kind} | "
            f"{fmt(pred[i])} | {fmt(pred[i] - tg.value)} | {tg.note} |"
        )
    rm = series_rmse(ev.targets, pred)
    lines += ["", "### RMSE per series", "", "| series | RMSE | units |", "|---|---|---|"]
    for s, v in rm.items():
        lines.append(f"| {s} | {fmt(v)} | {UNITS[s]} |")
    return "\n".join(lines)


def yaml_snippet(ev: Evaluator, x: np.ndarray) -> str:
    return "\n".join(f"  {n}: value {float(v):.6g}" for n, v in zip(ev.names, x, strict=True))


def plots(
    ev: Evaluator, x: np.ndarray, ledger: Ledger, origin: object, units: str | None
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMG.mkdir(parents=True, exist_ok=True)
    times, traj = ev.run(x[None, :])
    pred = ev.predictions(times, traj)[:, 0]
    dates = ev.model.dates(times)
    written: list[Path] = []

    def tdate(t: float) -> object:
        return ev.model.dates([t])[0]

    panels = [
        ("containers", "containers_shipped", "Cumulative containers, NK -> Russia", (52, 70)),
        ("shells", "shells_shipped", "Cumulative shells, NK -> Russia", (52, 70)),
        ("launches", "nk_missile_launches_per_year", "Missiles launched per year", (0, 72)),
        ("china_trade", "china_nk_trade_value", "China-North Korea trade (USD/year)", (0, 72)),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for ax, (series, var, title, (t0, t1)) in zip(axes.flat, panels, strict=True):
        mask = (times >= t0) & (times <= t1)
        ax.plot(dates[mask], traj[var][mask, 0], color="C0", label="model")
        for i, tg in enumerate(ev.targets):
            if tg.series != series:
                continue
            if tg.kind == "annual":
                ax.hlines(tg.value, tdate(tg.time), tdate(tg.time + 12), color="C3", lw=3)
                ax.hlines(pred[i], tdate(tg.time), tdate(tg.time + 12), color="C0", lw=1, ls="--")
            else:
                marker = {"point": "o", "lower": "^", "upper": "v"}[tg.kind]
                ax.plot([tdate(tg.time)], [tg.value], marker, color="C3", ms=8)
                ax.annotate(
                    tg.obs_id,
                    (tdate(tg.time), tg.value),
                    fontsize=7,
                    xytext=(4, -10),
                    textcoords="offset points",
                )
        for obs_id in SHOWN_NOT_FITTED.get(series, []):
            r = ledger.rows[obs_id]
            tt = model_time(r["date"], origin, units)
            if tt < t0 or tt > t1 + 12:
                continue
            if len(r["date"]) == 4:
                ax.hlines(float(r["value"]), tdate(tt), tdate(tt + 12), color="grey", lw=2, ls=":")
            else:
                ax.plot([tdate(tt)], [float(r["value"])], "x", color="grey", ms=8)
            ax.annotate(
                obs_id + " (not fitted)",
                (tdate(tt), float(r["value"])),
                fontsize=7,
                color="grey",
                xytext=(4, 4),
                textcoords="offset points",
            )
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if series == "shells":
            for tg in ev.targets:
                if "+" in tg.obs_id:
                    lo_id, hi_id = tg.obs_id.split("+")
                    ax.vlines(
                        tdate(tg.time),
                        ledger.value(lo_id),
                        ledger.value(hi_id),
                        color="C3",
                        alpha=0.5,
                        lw=2,
                    )
        ax.tick_params(axis="x", rotation=30)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="C0", label="model"),
        Line2D([], [], color="C0", ls="--", label="model, annual mean"),
        Line2D([], [], color="C3", marker="o", ls="", label="observed (fitted)"),
        Line2D([], [], color="C3", marker="^", ls="", label="lower bound (soft)"),
        Line2D([], [], color="C3", marker="v", ls="", label="upper bound (soft)"),
        Line2D([], [], color="C3", lw=3, label="observed annual value"),
        Line2D([], [], color="grey", marker="x", ls="", label="shown, not fitted"),
    ]
    axes[0, 0].legend(handles=handles, loc="upper left", fontsize=8)
    fig.suptitle(
        "nk_russia calibration: model (blue) against the evidence ledger (red); "
        "grey = shown, not fitted",
        fontsize=11,
    )
    fig.tight_layout()
    p = IMG / "calibration_fit.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)

    res = ev.residuals(pred[:, None])[:, 0]
    fig, ax = plt.subplots(figsize=(12, 4))
    colors = {"containers": "C0", "shells": "C1", "launches": "C2", "china_trade": "C4"}
    labels = [f"{tg.obs_id}\n{tg.series}" for tg in ev.targets]
    ax.bar(range(len(res)), res, color=[colors[tg.series] for tg in ev.targets])
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(res)), labels, rotation=90, fontsize=7)
    ax.set_ylabel("weighted log(model / observed)")
    ax.set_title("Calibration residuals (one-sided bounds count only when violated)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    p = IMG / "calibration_residuals.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)
    return written


def rewrite_doc(block: str) -> None:
    if not DOC.exists():
        return
    text = DOC.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="?", default=str(DEFAULT_CSV), help="observations CSV")
    ap.add_argument("--model", default=str(MODEL), help="model file (default: built-in)")
    ap.add_argument("--no-fit", action="store_true", help="evaluate and plot only")
    ap.add_argument("--no-plots", action="store_true", help="skip figures and doc update")
    ap.add_argument("--max-nfev", type=int, default=40)
    args = ap.parse_args(argv)

    csv_path = Path(args.csv)
    if not csv_path.exists():
        print(f"observations not found: {csv_path}", file=sys.stderr)
        return 1
    ledger = Ledger.read(csv_path)
    model = quidpro.load(args.model)
    origin, units = model.spec.time.origin, model.spec.time.units
    targets = build_targets(ledger, origin, units)
    ev = Evaluator(model, targets, FIT)
    fun, jac = ev.residual_fn()

    u0 = np.clip(ev.to_u(ev.x0), 0.0, 1.0)
    r0 = fun(u0)
    cost0 = 0.5 * float(r0 @ r0)
    if args.no_fit:
        u, cost = u0, cost0
    else:
        sol = least_squares(
            fun,
            u0,
            jac=jac,
            bounds=(0.0, 1.0),
            method="trf",
            x_scale=1.0,
            max_nfev=args.max_nfev,
            verbose=1,
        )
        u, cost = sol.x, float(sol.cost)
    x = ev.to_x(u)
    times, traj = ev.run(x[None, :])
    pred = ev.predictions(times, traj)[:, 0]
    text = report(ev, x, pred, cost0, cost, fitted=not args.no_fit)
    print(text)
    print("\nValues for src/quidpro/models/nk_russia.yaml:")
    print(yaml_snippet(ev, x))
    if not args.no_plots:
        for p in plots(ev, x, ledger, origin, units):
            print(f"wrote {p.relative_to(ROOT)}")
        rewrite_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
