"""Storage: a results folder's parts, manifest, sidecar, integrity checks,
coverage, and the writer and reader. Imports only sweep.config below it."""
