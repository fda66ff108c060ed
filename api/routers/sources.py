"""GET /v1/sources/{chunk_id}: the cited text and its whole section."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, HTTPException

from api.deps import ServicesDep
from api.schemas import ErrorResponse, SourceResponse

router = APIRouter(prefix="/v1", tags=["sources"])


@router.get("/sources/{chunk_id}", response_model=SourceResponse, responses={404: {"model": ErrorResponse}})
async def source(chunk_id: str, services: ServicesDep) -> SourceResponse:
    row = await anyio.to_thread.run_sync(services.sources.get, chunk_id)
    if row is None:
        raise HTTPException(404, f"no chunk with id {chunk_id!r}")
    return SourceResponse(title=" > ".join(row["heading_path"]), **row)
