"""Posterior tables: write, read, and draw ensemble members from them.

A posterior file (Parquet) holds one row per draw and one column per calibrated
constant; its schema metadata records how it was made (method, seed, evidence,
cutoff). An ensemble drawn from a posterior gives member ``i`` the constants of row
``r_i``, the rows resampled with replacement by the seed (block ``b`` of
65,536 members from its own seeded stream, so any member range gives the same rows
whatever the batch). Constants that carry a distribution but are not in the
posterior keep their values: the calibration computed the posterior with them at
those values, so the pair (posterior constants, other constants at their values) is
the posterior the evidence supports, while drawing the others from their priors
would pair calibrated constants with worlds the calibration never saw (and widen the
bands with uncertainty the evidence was never asked about). Calibrate every uncertain
constant (the default of ``quidpro calibrate``) to carry all of them. Levers and
constants fixed by a scenario or ``--set`` are never sampled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from quidpro.errors import ConfigError, Loc, ModelError
from quidpro.model.spec import Model

_META_KEY = b"quidpro.posterior"
# Members per seeded stream of row indices: any fixed size makes a member's row
# independent of the batch it runs in.
_BLOCK = 65536


@dataclass(frozen=True)
class PosteriorTable:
    """Draws of calibrated constants: ``values[draw, j]`` for ``names[j]``."""

    names: tuple[str, ...]
    values: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def column(self, name: str) -> np.ndarray:
        """Every draw of constant ``name``."""
        return np.asarray(self.values[:, self.names.index(name)])


def write_posterior(table: PosteriorTable, path: str | Path) -> None:
    """Write ``table`` as Parquet: one row per draw, one column per constant."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [
        pa.array(np.asarray(table.values[:, j], dtype=float)) for j in range(len(table.names))
    ]
    schema = pa.schema([(n, pa.float64()) for n in table.names]).with_metadata(
        {_META_KEY: json.dumps(dict(table.meta), default=str).encode()}
    )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), p)


def read_posterior(
    path: str | Path, model: Model | None = None, loc: Loc | None = None
) -> PosteriorTable:
    """Read a posterior file; with ``model``, check every column names one of its constants.

    Errors are :class:`~quidpro.errors.ModelError` at ``loc`` (the model's
    ``calibration.posterior`` entry) or at the file itself.
    """
    import pyarrow.parquet as pq

    p = Path(path)
    where = loc or Loc(str(p), 0, 0)
    if not p.exists():
        raise ModelError(f"posterior file not found: {p}", where)
    try:
        t = pq.read_table(p)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise ModelError(f"cannot read the posterior file {p}: {exc}", where) from None
    names = tuple(t.column_names)
    if not names or t.num_rows == 0:
        raise ModelError(f"the posterior file {p} has no draws", where)
    import pyarrow as pa

    kinds = {n: t.schema.field(n).type for n in names}
    odd = [
        f"{n} ({k})"
        for n, k in kinds.items()
        if not (pa.types.is_floating(k) or pa.types.is_integer(k))
    ]
    if odd:
        raise ModelError(
            f"the posterior file {p} has columns that are not numbers: {', '.join(odd)}", where
        )
    values = np.column_stack([t.column(n).to_numpy(zero_copy_only=False) for n in names]).astype(
        float
    )
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = (int(i) for i in bad[0])
        raise ModelError(
            f"the posterior file {p} holds non-finite values ({names[col]} of draw {row}: "
            f"{values[row, col]}, and {len(bad) - 1:,} more)",
            where,
        )
    meta: dict[str, Any] = {}
    raw = (t.schema.metadata or {}).get(_META_KEY)
    if raw:
        try:
            meta = json.loads(raw)
        except ValueError:
            raise ModelError(f"the posterior file {p} has unreadable metadata", where) from None
        if not isinstance(meta, dict):
            raise ModelError(f"the posterior file {p} has unreadable metadata", where)
    if model is not None:
        unknown = [n for n in names if n not in model.constants]
        if unknown:
            raise ModelError(
                f"the posterior file {p} has column(s) that are not constants of "
                f"{model.name}: {', '.join(unknown)}",
                where,
            )
        levers = [n for n in names if model.constants[n].lever]
        if levers:
            raise ModelError(
                f"the posterior file {p} sets lever(s) {', '.join(levers)}; levers are "
                "scenario choices, never calibrated",
                where,
            )
    return PosteriorTable(names, values, meta)


def model_posterior(model: Model) -> PosteriorTable | None:
    """The posterior the model names in ``calibration: {posterior: FILE}``, if any."""
    cal = model.calibration
    if cal is None:
        return None
    path = cal.posterior_path(model.file)
    if path is None:
        return None
    return read_posterior(path, model, cal.loc)


class PosteriorSample:
    """Members drawn from a posterior table, the other uncertain constants from priors.

    The priors' draws are a :class:`~quidpro.ensemble.sampling.MemberSample`; like it,
    this gives the rows of any member range on demand.
    """

    def __init__(
        self, table: PosteriorTable, prior: Any, n: int, seed: int, keep: Iterable[str]
    ) -> None:
        if n < 1:
            raise ConfigError(f"n_runs must be at least 1, got {n}")
        keep = list(keep)
        self.table = table
        self.prior = prior  # a MemberSample of the constants not in the posterior
        self.n = n
        self.seed = seed
        self.keep_posterior = [k for k in table.names if k in keep]

    @property
    def names(self) -> list[str]:
        """The constants sampled: the posterior's, then the priors'."""
        return [*self.keep_posterior, *self.prior.names]

    def indices(self, lo: int, hi: int) -> np.ndarray:
        """The posterior row of each member ``lo .. hi - 1``."""
        parts = []
        for b in range(lo // _BLOCK, (hi - 1) // _BLOCK + 1):
            start = b * _BLOCK
            ss = np.random.SeedSequence(self.seed, spawn_key=(1 << 29, b))
            rows = np.random.default_rng(ss).integers(
                0, len(self.table), min(hi, start + _BLOCK) - start
            )
            parts.append(rows[max(lo - start, 0) :])
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def rows(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Values of the sampled constants for members ``lo .. hi - 1``."""
        if hi <= lo:
            return {}
        idx = self.indices(lo, hi)
        out = {n: self.table.column(n)[idx] for n in self.keep_posterior}
        out.update(self.prior.rows(lo, hi))
        return out
