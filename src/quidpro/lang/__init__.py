"""Text to syntax tree: the expression grammars and the YAML and XML readers.

They produce located syntax (expression trees, YAML and XML nodes with their file,
line and column); :mod:`quidpro.model` turns it into a ``Model``. Also here, as the
lowest layer every other needs: the table of builtin functions (:mod:`.builtins`) and
the one "did you mean" helper (:mod:`.suggest`). A leaf: it imports nothing of
quidpro except the leaf module :mod:`quidpro.errors` (tests/test_architecture.py).
"""
