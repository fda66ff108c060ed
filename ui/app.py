"""The Streamlit app: navigation over the pages, and the API's status in the sidebar.

fda ui                      # streamlit run ui/app.py on 127.0.0.1:8501 (FDA_UI__PORT), headless
FDA_UI__API_URL=http://127.0.0.1:8000 streamlit run ui/app.py
"""

from __future__ import annotations

import streamlit as st

from fda.errors import ApiError
from ui.config import UiConfig, load_config

PAGES = [
    st.Page("views/runs.py", title="Runs", icon=":material/monitoring:", default=True),
    st.Page("views/question.py", title="Question drill-down", icon=":material/manage_search:"),
    st.Page("views/labelling.py", title="Labelling", icon=":material/rule:"),
    st.Page("views/playground.py", title="Playground", icon=":material/chat:"),
    st.Page("views/coverage.py", title="Coverage", icon=":material/library_books:"),
    st.Page("views/service.py", title="Service", icon=":material/speed:"),
]


@st.cache_data(ttl=10, show_spinner=False)
def api_status(api_url: str, timeout_s: float) -> tuple[str, str]:
    """("ready" | "degraded" | "down", detail): degraded = answering with less, e.g. the colbert index still
    building in the background (the detail says what and for how long)."""
    from ui.api_client import ApiClient, readiness

    try:
        return readiness(ApiClient(api_url, timeout_s).ready())
    except ApiError as err:
        return "down", str(err.args[0])


def sidebar(cfg: UiConfig) -> None:
    with st.sidebar:
        state, detail = api_status(cfg.api_url, min(cfg.timeout_s, 3.0))
        if state == "ready":
            st.success(f"API ready at {cfg.api_url}", icon=":material/check_circle:")
        elif state == "degraded":
            st.info(f"API answering at {cfg.api_url}, degraded: {detail}", icon=":material/hourglass_top:")
        else:
            st.warning(f"API not ready at {cfg.api_url}: {detail}", icon=":material/warning:")
        st.caption(f"eval store `{cfg.eval_db}`  \nquery log `{cfg.logs_db}`  \ncorpus `{cfg.corpus_db}`")


@st.cache_resource(show_spinner="Loading the committed eval runs (eval/results/)...")
def committed_runs_loaded(eval_db: str) -> list[str]:
    """The runs committed under eval/results/, stored once per process into the eval store, so a fresh
    clone's Runs page shows real runs at once."""
    from pathlib import Path

    from eval.results_export import import_committed
    from fda.errors import FDAError

    try:
        return import_committed(Path(eval_db))
    except FDAError as err:  # a locked or unreadable store: the pages say so themselves
        st.warning(f"Committed runs not loaded: {err}", icon=":material/warning:")
        return []


st.set_page_config(page_title="FastAPI Docs Assistant", page_icon=":material/menu_book:", layout="wide")
nav = st.navigation(PAGES)
config = load_config()
if config.load_committed_runs:
    committed_runs_loaded(str(config.eval_db))
sidebar(config)
nav.run()
