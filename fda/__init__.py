"""The FastAPI Docs Assistant's shared core: settings, errors, types, text, logging, tracing, the LM layer.

Importing the package applies the offline-first process defaults (fda/env.py: ``setdefault``, so a user's own
environment wins): a notebook or script that imports any project module never reaches a model hub or a model
metadata URL, as the CLI never does.
"""

from fda.env import apply_offline_defaults

apply_offline_defaults()
