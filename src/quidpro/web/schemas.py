"""Pydantic models of the API's requests (DESIGN.md, ``serve``), with the server's caps.

Unknown fields are rejected, so that a misspelt key is an error rather than ignored.
``vars`` on ``/api/run`` is an optional extension of the contract: the page asks only
for the variables it draws.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

MAX_BODY = 256 * 1024  # bytes of one request
MAX_RUNS = 20_000  # members of one ensemble (workbench.MAX_RUNS says the same)

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Query = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
# Strict numbers: JSON's true and false are not 1 and 0 (an integer is still a number).
Setting = (
    Annotated[float, Strict()] | Annotated[str, StringConstraints(min_length=1, max_length=40)]
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=False)


class RunRequest(_Request):
    """``POST /api/run``: ``{"model", "scenario"?, "set"?}`` (+ ``vars``)."""

    model: Name
    scenario: Name | None = None
    set: dict[Name, Setting] | None = Field(default=None, max_length=500)
    vars: list[Name] | None = Field(default=None, max_length=500)


class EnsembleRequest(_Request):
    """``POST /api/ensemble``: ``{"model", "scenario"?, "runs", "seed", "vars"?, "queries"?}``."""

    model: Name
    scenario: Name | None = None
    runs: Annotated[int, Strict()] = Field(ge=1, le=MAX_RUNS)
    seed: Annotated[int, Strict()] = Field(ge=0, le=2**63 - 1)
    set: dict[Name, Setting] | None = Field(default=None, max_length=500)
    vars: list[Name] | None = Field(default=None, max_length=500)
    queries: list[Query] | None = Field(default=None, max_length=50)
