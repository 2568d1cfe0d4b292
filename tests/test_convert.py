"""``quidpro convert``: YAML ↔ XMILE round trips run identically."""

from __future__ import annotations

import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import quidpro
from quidpro.cli.main import app
from quidpro.errors import UnsupportedError
from quidpro.io.load import builtin_models, read_model
from quidpro.io.xmile_writer import model_to_xmile
from quidpro.io.yaml_writer import identifier, model_to_yaml
from vendored import CONFORMANCE as SUITE
from vendored import CONFORMANCE_MODELS as CONFORMANCE
from vendored import CONFORMANCE_VENSIM


def _key(name: str) -> str:
    """A column's name as every writer spells it (modules, accents and odd characters flattened)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[\W_]+", "_", plain).strip("_").lower()


def assert_same_run(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Every column of ``a`` is in ``b`` with exactly the same values."""
    cols = {_key(c): c for c in b.columns}
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.index.to_numpy(), b.index.to_numpy())
    for c in a.columns:
        assert _key(c) in cols, f"{c!r} is missing after the round trip"
        np.testing.assert_allclose(
            a[c].to_numpy(), b[cols[_key(c)]].to_numpy(), rtol=1e-12, atol=1e-12, err_msg=c
        )


@pytest.mark.parametrize("name", sorted(builtin_models()))
def test_yaml_to_xmile_to_yaml_runs_identically(name: str, tmp_path: Path) -> None:
    original = quidpro.load(name)
    x = tmp_path / f"{name}.xmile"
    x.write_text(model_to_xmile(original.spec))
    via_xmile = quidpro.load(x)
    y = tmp_path / f"{name}.yaml"
    y.write_text(model_to_yaml(via_xmile.spec))
    back = quidpro.load(y)
    base = original.run()
    assert_same_run(base, via_xmile.run())
    assert_same_run(base, back.run())
    # YAML -> YAML keeps everything format v1 has: scenarios too.
    direct = tmp_path / "direct.yaml"
    direct.write_text(model_to_yaml(original.spec))
    again = quidpro.load(direct)
    assert again.scenarios == original.scenarios
    for sc in original.scenarios[:1]:  # one is enough: the set values are the same
        assert again.spec.scenarios[sc].set == original.spec.scenarios[sc].set
        assert_same_run(original.run(scenario=sc), again.run(scenario=sc))


@pytest.mark.parametrize("model", CONFORMANCE)
def test_conformance_xmile_to_yaml_and_back(model: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one suite file is malformed (see test_conformance)
        spec = read_model(SUITE / model)
    base = quidpro.load(SUITE / model).run() if "non_negative_flows" not in model else None
    if base is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = quidpro.load(SUITE / model).run()
    y = tmp_path / "m.yaml"
    y.write_text(model_to_yaml(spec))
    as_yaml = quidpro.load(y)
    assert_same_run(base, as_yaml.run())
    x = tmp_path / "m.xmile"
    x.write_text(model_to_xmile(as_yaml.spec))
    assert_same_run(base, quidpro.load(x).run())


def test_cli_convert(tmp_path: Path) -> None:
    out = tmp_path / "logistic.xmile"
    result = CliRunner().invoke(app, ["convert", "logistic", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith('<?xml version="1.0"')
    back = tmp_path / "back.yaml"
    result = CliRunner().invoke(app, ["convert", str(out), "--out", str(back)])
    assert result.exit_code == 0, result.output
    assert back.read_text().startswith("quidpro: 1\n")


def test_cli_convert_usage_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["convert", "logistic", "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 2
    assert "must end in .yaml" in result.output
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "nope.xmile"), "-o", "a.yaml"])
    assert result.exit_code == 1


def test_xmile_keeps_docs_units_and_claims() -> None:
    spec = read_model("nk_russia")
    text = model_to_xmile(spec)
    with_claims = [v for v in spec.variables.values() if v.claims]
    assert with_claims, "the flagship cites claims"
    v = with_claims[0]
    assert f"Claims: {', '.join(v.claims)}" in text
    units = next(c.units for c in spec.constants.values() if c.units)
    assert f"<units>{units}</units>" in text


def test_identifiers_for_xmile_names() -> None:
    taken: set[str] = set()
    assert identifier("Flow w/ division", taken) == "Flow_w_division"
    assert identifier("hares.births", taken) == "hares__births"
    assert identifier("time", taken) == "time_"
    assert identifier("2nd", taken) == "v_2nd"
    assert identifier("Flow w/ division", taken) == "Flow_w_division_2"


def test_discrete_lookups_do_not_fit_format_v1(tmp_path: Path) -> None:
    p = tmp_path / "d.xmile"
    p.write_text(
        '<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"><sim_specs><stop>2'
        '</stop></sim_specs><model><variables><aux name="a"><eqn>TIME</eqn><gf type="discrete">'
        "<xpts>0,1</xpts><ypts>0,1</ypts></gf></aux></variables></model></xmile>"
    )
    with pytest.raises(UnsupportedError, match="discrete"):
        model_to_yaml(read_model(p))


CONTROLS = {"final_time", "initial_time", "saveper", "time_step"}


@pytest.mark.parametrize("path", sorted(CONFORMANCE_VENSIM.rglob("*.mdl")), ids=lambda p: p.stem)
def test_vensim_models_convert_to_yaml_and_xmile_that_run_identically(
    path: Path, tmp_path: Path
) -> None:
    # Subscripts defined element by element came out of the XMILE writer as "x[a]" for
    # an array x that no file declared, and accented names as invalid format v1 names.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = quidpro.load(path)
            base = m.run(backend="numpy")
        except quidpro.QuidproError:
            pytest.skip("the model itself does not load or run (test_vensim_conformance)")
        for write, suffix in ((model_to_yaml, "yaml"), (model_to_xmile, "xmile")):
            try:
                text = write(m.spec)
            except UnsupportedError:  # a construct the format cannot hold, said so
                continue
            out = tmp_path / f"{path.stem}.{suffix}"
            out.write_text(text, encoding="utf-8")
            back = quidpro.load(out).run(backend="numpy")
            cols = {_key(c): c for c in back.columns}
            kept = {_key(c) for c in m.spec.constants} | CONTROLS  # may become settings
            assert len(back) == len(base)
            for c in base.columns:
                if _key(c) not in cols:
                    assert _key(c) in kept, f"{c!r} is missing from the {suffix} file's run"
                    continue
                np.testing.assert_allclose(
                    base[c].to_numpy(), back[cols[_key(c)]].to_numpy(), rtol=1e-12, atol=1e-12,
                    err_msg=f"{c} ({suffix})",
                )  # fmt: skip
