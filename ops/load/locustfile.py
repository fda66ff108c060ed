"""Locust users for ``fda bench load``'s search scenarios; ops/load/locust_runner.py runs locust headless on it.

    FDA_LOAD_QUERIES=queries.json locust -f ops/load/locustfile.py --headless -u 50 -r 50 -t 30s \\
        --host http://127.0.0.1:8000 --csv out

Configured by environment (the runner sets it):
- ``FDA_LOAD_QUERIES``: a JSON file, a list of search queries (the gold questions);
- ``FDA_LOAD_K``: results per search; ``FDA_LOAD_BACKEND``: the backend ('' = the server's default);
- ``FDA_LOAD_UNIQUE``: ``1`` appends a word no index knows, so the search cache never answers;
- ``FDA_LOAD_PACE_S``: each user starts a request at most every N seconds (``constant_pacing``); 0: no think
  time (a closed loop that saturates the server).

``FastHttpUser`` (geventhttpclient) costs several times less client CPU per request than locust's requests-based
``HttpUser``, which matters when the generator shares two cores with the server.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from urllib.parse import urlencode

from locust import constant, constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser

_QUERIES: list[str] = (
    json.loads(Path(os.environ["FDA_LOAD_QUERIES"]).read_text(encoding="utf-8"))
    if os.environ.get("FDA_LOAD_QUERIES")
    else ["How do I enable CORS?"]
)
_K = os.environ.get("FDA_LOAD_K", "10")
_BACKEND = os.environ.get("FDA_LOAD_BACKEND", "")
_UNIQUE = os.environ.get("FDA_LOAD_UNIQUE", "1") == "1"
_PACE_S = float(os.environ.get("FDA_LOAD_PACE_S", "0") or 0)
_COUNTER = itertools.count()


def search_path(i: int) -> str:
    """Request ``i``'s URL path: query ``i`` of the list (cycled), made unique when asked, as the aiohttp
    generator sends it (ops/load/suite.py: search_send)."""
    q = _QUERIES[i % len(_QUERIES)]
    params = {"q": f"{q} zq{i:x}" if _UNIQUE else q, "k": _K}
    if _BACKEND:
        params["backend"] = _BACKEND
    return "/v1/search?" + urlencode(params)


class SearchUser(FastHttpUser):
    wait_time = constant_pacing(_PACE_S) if _PACE_S > 0 else constant(0)

    @task
    def search(self) -> None:
        self.client.get(search_path(next(_COUNTER)), name="/v1/search")
