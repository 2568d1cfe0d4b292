"""Tables, plots and reports made from results (matplotlib, no display needed)."""
