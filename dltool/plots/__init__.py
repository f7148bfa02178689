"""Figures drawn from stored files only (matplotlib Agg); never imports torch."""
