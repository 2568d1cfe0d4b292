"""Fuzzing: mutated model files and hostile queries must give clean answers (issue 13)."""
