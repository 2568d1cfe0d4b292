"""Compile a checked model to a step function and integrate it over time."""
