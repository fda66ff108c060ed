"""The ``fda`` command line (fda/cli/app.py is the entry point; one module per command group)."""
