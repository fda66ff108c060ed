"""``python -m fda.cli``: the same as ``fda``."""

from fda.cli.app import main

main()
