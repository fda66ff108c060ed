"""GET /v1/search: retrieval only, cached."""

from __future__ import annotations

import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.schemas import ErrorResponse, SearchHit, SearchResponse
from fda.errors import InvalidQuestionError
from fda.types import Passage
from index.retrieval.base import MAX_QUERY_CHARS, check_query
from programs.citations import snippet

router = APIRouter(prefix="/v1", tags=["search"])
# Searches that take well under a millisecond (BM25: ~0.3 ms) run on the event loop: a worker thread costs
# more than the search, and 50 concurrent ones fighting the loop for the GIL multiplied the tail latency
# (docs/benchmarks.md, load test). The neural backends (milliseconds to tens of them) use a thread.
INLINE_BACKENDS = frozenset({"bm25"})


@router.get(
    "/search", response_model=SearchResponse, responses={400: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}
)
async def search(
    services: ServicesDep,
    q: Annotated[str, Query(description="Search text")],
    k: Annotated[int, Query(ge=1, description="How many results")] = 10,
    version: Annotated[str | None, Query(description="Docs version; default latest")] = None,
    backend: Annotated[str | None, Query(description="Retrieval backend; default from settings")] = None,
) -> SearchResponse:
    t0 = time.perf_counter()
    query = check_query(q)
    truncated = len(q.strip()) > MAX_QUERY_CHARS
    if k > services.settings.api.search_max_k:
        raise InvalidQuestionError(f"k={k} is over the limit of {services.settings.api.search_max_k}")
    name = backend or services.default_backend
    if name not in services.retrievers:
        raise InvalidQuestionError(f"unknown backend {name!r}", hint=f"Use one of: {', '.join(services.retrievers)}.")
    v = services.resolve_version(version)
    key = (" ".join(query.lower().split()), k, v, name, services.index_generation)  # a signal came online: new key
    cached: list[Passage] | None = services.search_cache.get(key)
    was_cached = cached is not None
    services.telemetry.cache.labels(cache="search", result="hit" if was_cached else "miss").inc()
    if cached is None:
        retriever = services.retrievers[name]
        if name in INLINE_BACKENDS:
            passages = retriever.search(query, k=k, version=v)
        else:
            passages = await anyio.to_thread.run_sync(lambda: retriever.search(query, k=k, version=v))
        services.search_cache.put(key, passages)
    else:
        passages = cached
    results = [
        SearchHit(
            rank=i,
            chunk_id=p.chunk_id,
            url=p.url,
            title=p.title,
            snippet=snippet(p.text),
            version=p.version,
            score=p.score,
        )
        for i, p in enumerate(passages, start=1)
    ]
    took = round((time.perf_counter() - t0) * 1000, 2)
    return SearchResponse(
        query=query, backend=name, version=v, results=results, cached=was_cached, took_ms=took, truncated=truncated
    )
