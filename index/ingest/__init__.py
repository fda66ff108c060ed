"""Ingestion: corpus snapshots -> cleaned pages -> sections -> chunks in the DuckDB store (`fda ingest`)."""
