"""Checks that make an answer trustworthy, around the LM's answer step (docs/trust.md):

- ``scope.py``: is the question about FastAPI as the docs cover it? (an embedding classifier, no LM call)
- ``vocabulary.py`` + ``premise.py``: does the question name an API the docs never show? (said, not echoed)
- ``verify.py``: after the answer, each sentence checked against the passage it cites; markup and echoed
  instructions removed; code identifiers checked against the passages and the docs' API vocabulary.
"""
