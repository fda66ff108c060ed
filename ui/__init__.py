"""Streamlit explorer: eval runs, question drill-down, labelling, an ask playground, corpus coverage.

    fda ui          # or: make ui  ->  http://127.0.0.1:8501

It reads stored results (DuckDB, read-only except for labels; MLflow) and calls the running API with
httpx; it never imports ``programs/``. Pages live in ``ui/views/`` (not ``pages/``, a folder Streamlit
would list on its own before ``st.navigation`` runs); data access in small modules here.
"""
