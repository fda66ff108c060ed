"""Request and public response models (separate from internal types)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fda.types import Citation


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="The question about FastAPI.")
    version: str | None = Field(default=None, description="Docs version (tag); default: latest.")
    program: Literal["rag", "multihop"] | None = Field(default=None, description="Default: settings.")


class AskResponse(BaseModel):
    answer: str
    citations: list[Citation]
    cannot_answer: bool
    refused: bool
    fallback: bool = Field(description="True when the LM failed or timed out and sources are returned instead.")
    invalid_citations: int
    reason: str = Field(
        default="",
        description="Why it declined or fell back: out_of_scope, premise (an API the docs never show), "
        "coverage (a tool the docs never mention), verification (no sentence supported by the sources), an LM error...",
    )
    verification: dict[str, object] | None = Field(
        default=None,
        description="What the check after the answer did (docs/trust.md): claim sentences checked, removed as "
        "unsupported, citations moved or added, code with APIs the docs never show removed, markup stripped.",
    )
    code: dict[str, object] | None = Field(
        default=None,
        description="The answer's Python run in a sandbox (docs/code-checks.md): status verified / failed / "
        "not_runnable / not_run, detail (the error or why), routes called, docs_example when it is a docs_src "
        "example, imports_shown (import lines verified code needed and the answer now shows). None: the answer shows no Python, or code checks are off.",
    )
    version: str
    versions: list[str] = Field(
        default_factory=list,
        description="The docs versions the answer was written from (docs/versions.md): the request's, or those the "
        "question names ('I'm on 0.68': 0.68.0 and the latest).",
    )
    since: list[dict[str, object]] = Field(
        default_factory=list,
        description="For a section cited from an older docs version: what the latest docs changed (programs/since.py): "
        "change gone / page_gone / deprecated / reworded / unchanged, the latest URL, code names no longer used and "
        "used instead, the page's new sections. With before=true: a latest-docs section cited for a user on an older "
        "version, whose docs lack it or whose example uses other names. Also the answer's last lines ('Since 0.68.0: "
        "...', 'On FastAPI 0.68.0: ...').",
    )
    program: str
    program_version: str
    cached: bool
    timings_ms: dict[str, float]
    usage: dict[str, int]
    trace_id: str


class AgentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="The question about FastAPI.")
    version: str | None = Field(default=None, description="Docs version the tools use unless a step names one.")
    max_steps: int | None = Field(default=None, ge=1, le=20, description="Fewer tool calls than settings.agent allows.")


class AgentStep(BaseModel):
    step: int
    tool: str
    argument: str
    version: str = ""
    to_version: str = ""
    found: list[str] = Field(description="URL#anchor of each section the call returned.")
    new: int = Field(description="Sections not in the evidence before (or now read in full).")
    error: str = Field(default="", description="The tool's error, fed back to the next step.")
    ms: float


class AgentResponse(BaseModel):
    answer: str
    citations: list[Citation]
    cannot_answer: bool
    refused: bool
    fallback: bool
    reason: str = ""
    verification: dict[str, object] | None = None
    code: dict[str, object] | None = Field(default=None, description="As in AskResponse: the answer's code, run.")
    stop_reason: str = Field(
        description="finished | max_steps | token_budget | time_budget | repeated_call | no_new_evidence | lm_error "
        "| declined before any tool"
    )
    plan: list[str]
    trajectory: list[AgentStep]
    version: str
    program: str = "agent"
    program_version: str = Field(default="uncompiled", description="The agent is not compiled yet.")
    usage: dict[str, int]
    timings_ms: dict[str, float]
    trace_id: str


class SearchHit(BaseModel):
    rank: int
    chunk_id: str
    url: str
    title: str
    snippet: str
    version: str
    score: float


class SearchResponse(BaseModel):
    query: str
    backend: str
    version: str
    results: list[SearchHit]
    took_ms: float
    cached: bool
    truncated: bool = Field(default=False, description="The query was cut to the maximum length.")


class SourceResponse(BaseModel):
    chunk_id: str
    url: str
    title: str
    heading_path: list[str]
    version: str
    text: str
    section_text: str


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_id: str = Field(min_length=1, max_length=100)
    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=4000)


class FeedbackResponse(BaseModel):
    id: str
    stored: bool


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str = ""


class ErrorResponse(BaseModel):
    error: ErrorBody
