"""File formats at the edge: model files in, results out."""
