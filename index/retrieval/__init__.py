"""Retrieval: the Retriever protocol (base.py), the backends, their indexes (build.py, layout.py) and
the factory that opens them (factory.py)."""
