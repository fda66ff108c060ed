"""The API vocabulary of the real docs, and the premise check over real gold questions (corpus tier)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.gold import load_gold
from programs.trust.premise import unknown_apis
from programs.trust.vocabulary import ApiVocabulary, load_vocabulary
from tests.programs.trust.test_host import HARMLESS_FILES, _questions

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def vocab(real_store: tuple[Path, object]) -> ApiVocabulary:
    return load_vocabulary(real_store[0])


def test_the_docs_vocabulary_knows_fastapis_api(vocab: ApiVocabulary) -> None:
    assert {"BackgroundTasks", "Depends", "APIRouter", "CORSMiddleware", "Annotated"} <= vocab.names
    assert vocab.knows_kwarg("Depends", "use_cache") and vocab.knows_kwarg("Query", "max_length")
    assert vocab.knows_kwarg("FastAPI", "lifespan") and vocab.knows_kwarg("add_middleware", "allow_origins")
    assert not vocab.knows_kwarg("Depends", "timeout") and not vocab.knows_kwarg("FastAPI", "strict_mode")


@pytest.mark.parametrize(
    "question",
    [
        "what exactly does FastAPI(strict_mode=True) change?",
        "Does Depends(get_db, timeout=5) send a 504 when it runs over?",
        "app.enable_graphql(schema, path='/graphql') works, how do I turn on GraphiQL?",
        "How do I configure FastAPI's built-in rate limiter, like @app.rate_limit('10/minute')?",
        # `cache` is a word of the docs' code, but never a method of the app (a user check, session 17)
        "Since 0.100 added the @app.cache(ttl=60) decorator, how do I clear the cache?",
    ],
)
def test_invented_apis_are_caught(vocab: ApiVocabulary, question: str) -> None:
    assert unknown_apis(question, vocab)


def test_answerable_train_questions_are_almost_never_flagged(vocab: ApiVocabulary) -> None:
    """Gold v2 train and v1 train: at most 1% of the answerable rows declined by the check. (Measured: 1 of 264,
    `add_task(run_at=...)`: the docs do not show it, and the gold answer says so instead of declining.)"""
    rows = [r for r in [*load_gold("v2", "train"), *load_gold("v1", "train")] if not r.expect_refusal]
    flagged = {r.id: [u.describe() for u in unknown_apis(r.question, vocab)] for r in rows}
    flagged = {k: v for k, v in flagged.items() if v}
    assert len(rows) > 200 and len(flagged) <= 0.01 * len(rows), flagged


def test_the_harmless_sets_are_almost_never_flagged(vocab: ApiVocabulary) -> None:
    """Every harmless question set the project holds (own-app and benign security questions, the scope gate's
    FastAPI questions, generated section questions, gold v1/v2 answerable train and dev rows): at most 0.3%
    flagged. Measured, session 17: 3 of 4,419 (`Query(min_items=1)` after Pydantic v2, `add_task(run_at=...)`,
    and a generated question's `app.serve()`, which no FastAPI has); 6 before the installed FastAPI's
    signatures and other frameworks' apps were taken into account (`Query(ge=...)`, `StaticFiles(html=True)`,
    Flask's `@app.before_request` among them)."""
    harmless = _questions(*HARMLESS_FILES)
    harmless += [r.question for s in ("train", "dev-select") for r in load_gold("v2", s) if not r.expect_refusal]
    harmless += [r.question for s in ("train", "dev") for r in load_gold("v1", s) if not r.expect_refusal]
    flagged = {q[:80]: [u.describe() for u in unknown_apis(q, vocab)] for q in harmless}
    flagged = {k: v for k, v in flagged.items() if v}
    assert len(harmless) > 1200 and len(flagged) <= 0.003 * len(harmless), flagged
