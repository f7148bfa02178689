"""Groups of runs: compare-optimizers (plan, execute, results, tables)."""
