"""quidpro: executable, evidence-linked system-dynamics models of geopolitical analyses.

The public API, pinned by ``tests/test_api_exports.py``::

    import quidpro

    model = quidpro.load("nk_russia")            # a file or a built-in model's name
    df = model.run(scenario="...", set={...})    # one run: a DataFrame indexed by time
    res = quidpro.run_ensemble(model, 1000, seed=1, queries=["x > 5 at 2025-06-01"])
    doc = quidpro.ensemble_summary(res)          # the ``quidpro ensemble --json`` document
    si = quidpro.sensitivity(model, "sobol", "x", "2025-06-01", samples=256, seed=1)

``run_ensemble``, ``ensemble_summary`` and ``compare_scenarios`` are
:func:`quidpro.ensemble.ensemble`, :func:`quidpro.ensemble.summary` and
:func:`quidpro.ensemble.compare.compare` under names that read well at the top (a
function may not share its name with the package ``quidpro.ensemble``). Every error
quidpro raises on purpose is a :class:`QuidproError`; see :mod:`quidpro.errors`.
"""

import importlib as _importlib
import typing as _typing

from quidpro.errors import ConfigError as ConfigError
from quidpro.errors import CycleError as CycleError
from quidpro.errors import DuplicateNameError as DuplicateNameError
from quidpro.errors import Loc as Loc
from quidpro.errors import ModelError as ModelError
from quidpro.errors import ParseError as ParseError
from quidpro.errors import QuidproError as QuidproError
from quidpro.errors import SimulationError as SimulationError
from quidpro.errors import UndefinedNameError as UndefinedNameError
from quidpro.errors import UnitError as UnitError
from quidpro.errors import UnsupportedError as UnsupportedError

if _typing.TYPE_CHECKING:
    from quidpro.analysis.sensitivity import sensitivity as sensitivity
    from quidpro.api import LoadedModel as LoadedModel
    from quidpro.api import load as load
    from quidpro.ensemble import ensemble as run_ensemble
    from quidpro.ensemble import summary as ensemble_summary
    from quidpro.ensemble.compare import compare as compare_scenarios
    from quidpro.ensemble.runner import Result as EnsembleResult
    from quidpro.solve.simulate import Trajectories as Trajectories
    from quidpro.version import __version__ as __version__

# The rest of the API is imported on first use (PEP 562), so that ``import quidpro``
# (and the ``quidpro`` command, which imports it) does not pay for pandas, numba,
# networkx, lark, SALib and the rest before anything runs: public name -> (module, name).
_LAZY: dict[str, tuple[str, str]] = {
    "EnsembleResult": ("quidpro.ensemble.runner", "Result"),
    "LoadedModel": ("quidpro.api", "LoadedModel"),
    "Trajectories": ("quidpro.solve.simulate", "Trajectories"),
    "__version__": ("quidpro.version", "__version__"),
    "compare_scenarios": ("quidpro.ensemble.compare", "compare"),
    "ensemble_summary": ("quidpro.ensemble", "summary"),
    "load": ("quidpro.api", "load"),
    "run_ensemble": ("quidpro.ensemble", "ensemble"),
    "sensitivity": ("quidpro.analysis.sensitivity", "sensitivity"),
}


def __getattr__(name: str) -> object:
    """Import a public name of :data:`__all__` the first time it is read (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'quidpro' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(_importlib.import_module(module), attr)
    globals()[name] = value  # read once: later reads are plain attribute reads
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ConfigError",
    "CycleError",
    "DuplicateNameError",
    "EnsembleResult",
    "LoadedModel",
    "Loc",
    "ModelError",
    "ParseError",
    "QuidproError",
    "SimulationError",
    "Trajectories",
    "UndefinedNameError",
    "UnitError",
    "UnsupportedError",
    "__version__",
    "compare_scenarios",
    "ensemble_summary",
    "load",
    "run_ensemble",
    "sensitivity",
]
