"""Hints for modellers arriving from Vensim or XMILE: the spelling quidpro's YAML wants."""

from __future__ import annotations

import pytest

from quidpro.errors import ModelError
from quidpro.io.load import parse_model

HEAD = "quidpro: 1\nname: m\ntime: {start: 0, stop: 10, dt: 1}\n"


def error_of(text: str) -> ModelError:
    with pytest.raises(ModelError) as info:
        parse_model(text, "model.yaml")
    return info.value


def located(err: ModelError) -> tuple[str, str]:
    return str(err.loc), err.message


@pytest.mark.parametrize(
    ("equation", "where", "message"),
    [
        (
            '"STEP(1, 5)"',
            "5:7",
            "unknown function 'STEP' (did you mean 'step'?)",
        ),
        (
            '"Smooth(time, 2)"',
            "5:7",
            "unknown function 'Smooth' (did you mean 'smooth'?)",
        ),
        ('"MAX(time, 2)"', "5:7", "unknown function 'MAX' (did you mean 'max'?)"),
        ("Time * 2", "5:6", "undefined name 'Time' in 'a' (did you mean 'time'?)"),
        ("DT * 2", "5:6", "undefined name 'DT' in 'a' (did you mean 'dt'?)"),
        (
            '"IF THEN ELSE(time > 5, 1, 0)"',
            "5:10",
            "syntax error: unexpected 'THEN' (use if(cond, a, b) for IF THEN ELSE)",
        ),
        (
            '"if(time = 5, 1, 0)"',
            "5:15",
            "syntax error: unexpected character '=' (use == to compare ('=' is not an "
            "operator here))",
        ),
        (
            '"if(time <> 5, 1, 0)"',
            "5:16",
            "syntax error: unexpected '>' (use != for 'not equal')",
        ),
        (
            '"if(time > 1 :AND: time < 5, 1, 0)"',
            "5:19",
            "syntax error: unexpected character ':' (use and, or, not for :AND:, :OR:, :NOT:)",
        ),
    ],
)
def test_vensim_and_xmile_spellings_get_a_hint(equation: str, where: str, message: str) -> None:
    err = error_of(HEAD + f"auxiliaries:\n  a: {equation}\n")
    assert located(err) == (f"model.yaml:{where}", message)


def test_a_hint_points_at_the_line_in_block_style() -> None:
    text = HEAD + "auxiliaries:\n  a:\n    equation: time = 5\n"
    err = error_of(text)
    assert str(err) == (
        "model.yaml:6:20: syntax error: unexpected character '=' (use == to compare "
        "('=' is not an operator here))\n        equation: time = 5\n                       ^"
    )


def test_the_right_spellings_run() -> None:
    text = HEAD + 'auxiliaries:\n  a: "step(1, 5) + if(time == 5, 1, 0) + max(time, 2)"\n'
    from quidpro.api import LoadedModel

    df = LoadedModel(parse_model(text, "model.yaml")).run(backend="numpy")
    assert df["a"].tolist()[:7] == [2, 2, 2, 3, 4, 7, 7]
