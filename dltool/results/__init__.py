"""A study's results as values: read back from its member runs' stored files and computed by pure
functions, once (groups over seeds, the verdict and its statistics, a sweep's ranking, a profile's
ratios). Below plots and the study kinds: everything they draw, write or print is rendered from these."""
