"""The trust checks a program runs, as one injected bundle (shared, read-only: program copies share it).

    checks = load_checks(settings, encoder=dense.encoder)   # scope gate, API vocabulary, verification mode
    CitedRAG(retriever, checks=checks)

Without a bundle (``TrustChecks()``) a program still strips markup and verifies sentences against its
passages; the scope gate needs the dense encoder and data/scope/model.json, the premise check the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from programs.release_notes import ReleaseNotes
from programs.since import LatestDocs
from programs.trust.coverage import DocsWords
from programs.trust.harm import HarmGate, load_harm_gate
from programs.trust.intent import IntentJudge
from programs.trust.scope import QuestionEncoder, ScopeGate, load_scope_gate
from programs.trust.verify import Mode
from programs.trust.vocabulary import ApiVocabulary, load_vocabulary

if TYPE_CHECKING:
    from fda.settings import Settings

log = logging.getLogger(__name__)

SCOPE_MODEL = Path(__file__).resolve().parents[2] / "data" / "scope" / "model.json"
HARM_MODEL = Path(__file__).resolve().parents[2] / "data" / "harm" / "model.json"


@dataclass(frozen=True)
class TrustChecks:
    scope: ScopeGate | None = None
    vocabulary: ApiVocabulary | None = None  # the premise check and the API check of answers
    verify: Mode = "remove"
    premise: bool = True
    coverage: DocsWords | None = None  # every word of the docs: a short question about a tool they never mention
    harm: HarmGate | None = None
    intent: IntentJudge | None = None  # the LM's own check of the questions the harm classifier is unsure about
    releases: ReleaseNotes | None = (
        None  # every release-notes item, for "since which version" (programs/release_notes.py)
    )
    latest_docs: LatestDocs | None = None  # what the latest docs changed in a cited older section (programs/since.py)

    def __deepcopy__(self, memo: dict[int, Any]) -> TrustChecks:  # optimizers copy programs: share the checks
        return self

    def describe(self, lm: Any | None = None) -> dict[str, object]:
        """What runs, for /readyz. ``lm``: the LM being served, so the LM intent check says whether it asks it."""
        intent: str | None = None  # the LM's check of unsure harm decisions: every LM, hosted ones only, or off
        if self.intent is not None:
            intent = "all" if self.intent.embedded else "hosted"
            if lm is not None and not self.intent.applies(lm):
                intent = "hosted (off: the served LM is embedded)"
        return {
            "scope": self.scope.model.threshold if self.scope else None,
            "harm": self.harm.model.threshold if self.harm else None,
            "intent": intent,
            "premise": bool(self.premise and self.vocabulary is not None),
            "coverage": self.coverage is not None,
            "verify": self.verify,
        }


def find_encoder(retriever: object, depth: int = 8) -> QuestionEncoder | None:
    """The MiniLM query encoder a retriever already holds (dense, or fused's dense, under any wrappers)."""
    obj: object | None = retriever
    for _ in range(depth):
        if obj is None:
            return None
        for holder in (obj, getattr(obj, "dense", None)):
            encoder = getattr(holder, "encoder", None)
            if encoder is not None and callable(getattr(encoder, "encode_query", None)):
                return encoder
        obj = getattr(obj, "inner", None)
    return None


G = TypeVar("G", ScopeGate, HarmGate)


class RecentEncodings:
    """``encoder`` remembering its last ``size`` questions: the harm and scope gates read the same question one
    after the other, and one encoding serves both (thread-safe: ``functools.lru_cache``)."""

    def __init__(self, encoder: QuestionEncoder, size: int = 32) -> None:
        self.encoder = encoder
        self.encode_query = lru_cache(maxsize=size)(encoder.encode_query)


def _gate(
    name: str, wanted: bool, encoder: QuestionEncoder | None, path: Path, load: Callable[[QuestionEncoder, Path], G]
) -> G | None:
    """An embedding gate (scope, harm), or None with a warning saying why it is off: a missing encoder or a
    missing or corrupt model file is never fatal (the service answers without that gate)."""
    if not wanted:
        return None
    if encoder is None:
        log.warning("%s check off: no MiniLM encoder to embed questions with (use a dense or fused backend)", name)
        return None
    try:
        return load(encoder, path)
    except Exception as err:  # say so, serve without it
        log.warning("%s check off: %s", name, err)
        return None


def load_checks(settings: Settings, encoder: QuestionEncoder | None = None) -> TrustChecks:
    """The bundle settings.answer asks for. A check that cannot load is left out with a warning, never fatal:
    the service still answers (docs/trust.md says what each one catches)."""
    config = settings.answer
    encoder = RecentEncodings(encoder) if encoder is not None else None
    scope = _gate("scope", config.scope, encoder, config.scope_model or SCOPE_MODEL, load_scope_gate)
    harm = _gate("harm", config.harm, encoder, config.harm_model or HARM_MODEL, load_harm_gate)
    vocabulary = None
    if config.premise or config.coverage or config.verify != "off":
        try:
            vocabulary = load_vocabulary(settings.db_path)
        except Exception as err:  # no store: the API checks are off, the rest still runs
            log.warning("API vocabulary unavailable (premise, coverage and API checks off): %s", err)
    releases = None
    try:
        releases = ReleaseNotes.from_store(settings.db_path)
    except Exception as err:  # no store: "since which version" answers quote only the release notes shown
        log.warning("release notes unavailable: %s", err)
    latest_docs = None
    try:
        latest_docs = LatestDocs.from_store(settings.db_path)
    except Exception as err:  # no store: answers from older docs carry no "since" note
        log.warning("latest docs unavailable for the since-notes: %s", err)
    return TrustChecks(
        scope=scope,
        vocabulary=vocabulary,
        verify=config.verify,
        premise=config.premise,
        coverage=DocsWords(vocabulary) if config.coverage and vocabulary is not None else None,
        harm=harm,
        intent=IntentJudge(embedded=config.harm_judge == "on") if harm and config.harm_judge != "off" else None,
        releases=releases,
        latest_docs=latest_docs,
    )


def checks_for(settings: Settings, retriever: object) -> TrustChecks:
    """``load_checks`` with the encoder ``retriever`` already holds (no second copy of the MiniLM)."""
    return load_checks(settings, encoder=find_encoder(retriever))
