"""The trust checks a program runs, as one injected bundle (shared, read-only: program copies share it).

    checks = load_checks(settings, encoder=dense.encoder)   # scope gate, API vocabulary, verification mode
    CitedRAG(retriever, checks=checks)

Without a bundle (``TrustChecks()``) a program still strips markup and verifies sentences against its
passages; the scope gate needs the dense encoder and data/scope/model.json, the premise check the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from programs.trust.harm import HarmGate
from programs.trust.scope import QuestionEncoder, ScopeGate, ScopeModel
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
    harm: HarmGate | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> TrustChecks:  # optimizers copy programs: share the checks
        return self

    def describe(self) -> dict[str, object]:
        return {
            "scope": self.scope.model.threshold if self.scope else None,
            "harm": self.harm.model.threshold if self.harm else None,
            "premise": bool(self.premise and self.vocabulary is not None),
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


def load_checks(settings: Settings, encoder: QuestionEncoder | None = None) -> TrustChecks:
    """The bundle settings.answer asks for. A check that cannot load is left out with a warning, never fatal:
    the service still answers (docs/trust.md says what each one catches)."""
    config = settings.answer
    scope = None
    if config.scope:
        if encoder is None:
            log.warning("scope check off: no MiniLM encoder to embed questions with (use a dense or fused backend)")
        else:
            try:
                scope = ScopeGate(encoder, ScopeModel.load(config.scope_model or SCOPE_MODEL))
            except Exception as err:  # a missing or corrupt model file: serve without the gate, say so
                log.warning("scope check off: %s", err)
    harm = None
    if config.harm:
        if encoder is None:
            log.warning("harm check off: no MiniLM encoder to embed questions with (use a dense or fused backend)")
        else:
            try:
                harm = HarmGate(encoder, ScopeModel.load(config.harm_model or HARM_MODEL))
            except Exception as err:  # a missing or corrupt model file: the regular-expression screen still runs
                log.warning("harm check off: %s", err)
    vocabulary = None
    if config.premise or config.verify != "off":
        try:
            vocabulary = load_vocabulary(settings.db_path)
        except Exception as err:  # no store: the API checks are off, the rest still runs
            log.warning("API vocabulary unavailable (premise and API checks off): %s", err)
    return TrustChecks(scope=scope, vocabulary=vocabulary, verify=config.verify, premise=config.premise, harm=harm)


def checks_for(settings: Settings, retriever: object) -> TrustChecks:
    """``load_checks`` with the encoder ``retriever`` already holds (no second copy of the MiniLM)."""
    return load_checks(settings, encoder=find_encoder(retriever))
