"""quidpro: executable, evidence-linked system-dynamics models of geopolitical analyses."""

from quidpro.api import LoadedModel as LoadedModel
from quidpro.api import load as load
from quidpro.errors import ConfigError as ConfigError
from quidpro.errors import ModelError as ModelError
from quidpro.errors import QuidproError as QuidproError
from quidpro.errors import SimulationError as SimulationError
from quidpro.version import __version__ as __version__

__all__ = ["ConfigError", "LoadedModel", "ModelError", "QuidproError", "SimulationError", "load"]
