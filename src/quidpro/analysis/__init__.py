"""Analyses over ensembles: global sensitivity (pure functions)."""
