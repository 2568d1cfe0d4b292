"""A generated benchmark model: k copies of a 50-variable two-actor partnership.

Each copy has 10 stocks, 15 flows, 25 auxiliaries (2 lookups, 2 smooths) and 8
uncertain constants, like the reference model of DESIGN.md's speed targets.
"""

from __future__ import annotations

import yaml


def model_yaml(copies: int = 1, steps: int = 1000, dt: float = 0.25) -> str:
    doc: dict = {
        "quidpro": 1,
        "name": f"bench_k{copies}",
        "time": {"start": 0, "stop": steps * dt, "dt": dt, "units": "month"},
        "constants": {},
        "stocks": {},
        "flows": {},
        "auxiliaries": {},
        "lookups": {
            "effect_of_trust": {"points": [[0, 0.2], [0.5, 0.8], [1, 1.2], [2, 1.5]]},
            "effect_of_threat": {"points": [[0, 1.0], [1, 0.7], [3, 0.3]], "extrapolate": "linear"},
        },
    }
    c, s, f, a = doc["constants"], doc["stocks"], doc["flows"], doc["auxiliaries"]
    for k in range(copies):
        p = f"k{k}_"
        for i, (lo, hi) in enumerate(
            [
                (0.01, 0.05),
                (0.02, 0.08),
                (0.1, 0.3),
                (0.05, 0.2),
                (2, 8),
                (0.5, 1.5),
                (10, 30),
                (0.2, 0.6),
            ]
        ):
            c[f"{p}u{i}"] = {
                "value": (lo + hi) / 2,
                "distribution": {"kind": "uniform", "low": lo, "high": hi},
            }
        for i in range(10):
            s[f"{p}x{i}"] = {
                "initial": 10 + i,
                "inflows": [f"{p}in{i}"],
                "outflows": [f"{p}out{i}"] if i < 5 else [],
                "non_negative": i % 3 == 0,
            }
        for i in range(10):
            nxt = f"{p}x{(i + 1) % 10}"
            f[f"{p}in{i}"] = (
                f"{p}u{i % 4} * (40 * {p}effect{i % 5} + 0.1 * {nxt} - 0.5 * {p}x{i})"
                f" + {p}u6 * {p}pressure / (10 + {p}x{i})"
            )
        for i in range(5):
            f[f"{p}out{i}"] = f"{p}x{i} * {p}u{(i + 1) % 4} * {p}drain{i}"
        for i in range(5):
            a[f"{p}effect{i}"] = f"effect_of_trust({p}x{i} / ({p}x{i + 5} + 1))"
            a[f"{p}drain{i}"] = f"min(1, {p}u5 * effect_of_threat({p}threat / 1000))"
            a[f"{p}ratio{i}"] = f"{p}x{i} / max({p}x{i + 5}, 1)"
            a[f"{p}gap{i}"] = f"{p}u4 * {p}ratio{i} - {p}x{i} * 0.01"
        a[f"{p}total"] = " + ".join(f"{p}x{i}" for i in range(10))
        a[f"{p}threat"] = f"smooth({p}total * {p}u7, {p}u4)"
        a[f"{p}pressure"] = f"smooth(if(time > 50, {p}gap0, {p}gap1), 6)"
        a[f"{p}signal"] = "step(5, 40) + ramp(0.1, 20, 80) + sin(time / 12)"
        a[f"{p}index"] = f"sqrt(abs({p}gap2) + 1) * exp(-{p}u0 * {p}signal)"
    return yaml.safe_dump(doc, sort_keys=False)
