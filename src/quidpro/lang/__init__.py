"""Text to syntax tree: the expression grammar and the model file readers."""
