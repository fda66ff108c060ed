"""Shared vocabulary: what a retriever returns, what an answer cites, what the caller gets."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Passage(BaseModel):
    """One retrieved chunk. ``url`` is the citable URL#anchor of its section."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    url: str = Field(description="URL#anchor of the section the chunk belongs to.")
    heading_path: list[str] = Field(default_factory=list)
    text: str
    version: str
    score: float = 0.0
    kind: str = Field(default="doc", description="'doc' or 'release'.")

    @property
    def title(self) -> str:
        return " > ".join(self.heading_path)

    @property
    def page_url(self) -> str:
        return self.url.split("#", 1)[0]


class Citation(BaseModel):
    number: int
    chunk_id: str
    url: str
    title: str
    snippet: str
    version: str


class Answer(BaseModel):
    text: str
    citations: list[Citation] = Field(default_factory=list)
    cannot_answer: bool = False
    refused: bool = False
    fallback: bool = Field(default=False, description="True when the LM failed and sources were returned instead.")
    invalid_citations: int = Field(
        default=0, description="Citation markers stripped because they named no shown passage."
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)
