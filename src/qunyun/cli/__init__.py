"""The `qunyun` command line (Typer)."""
