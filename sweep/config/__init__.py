"""Configuration: the axes, value specs, study designs, trials and their ids,
the results' columns, run options and queries. Imports nothing above it."""
