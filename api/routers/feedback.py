"""POST /v1/feedback: up/down and a comment on an answer, stored durably before the reply."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import ErrorResponse, FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", response_model=FeedbackResponse, status_code=201, responses={422: {"model": ErrorResponse}})
async def feedback(req: FeedbackRequest, services: ServicesDep) -> FeedbackResponse:
    record = req.model_dump()
    rid = await anyio.to_thread.run_sync(lambda: services.spool.append("feedback", record, durable=True))
    return FeedbackResponse(id=rid, stored=True)
