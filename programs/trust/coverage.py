"""Does a short question ask about a tool the docs never mention? "How do I enable Brotli compression in
FastAPI?", "... run a job every 10 minutes with APScheduler?": no version of the docs says a word about either,
and the small LMs answer anyway from the nearest section (docs/trust.md, "Unanswerable questions"). Checked
before any LM call; the answer then names what the docs do not mention instead of guessing.

    unmentioned("How do I enable Brotli compression in FastAPI?", vocab)     # ['Brotli']
    unmentioned("How do I add pagination to a tenant's endpoints?", vocab)   # []: ordinary English words

A name counts when all of these hold:
- it is in the question's prose (pasted code, backticked spans, calls, URLs, host names and HTML tags are left out:
  ``premise.prose``);
- no ingested version of the docs uses it, in prose or code (identifiers split at ``_``, so
  ``HTTP_422_UNPROCESSABLE_ENTITY`` counts for "unprocessable");
- it is rare in English (``wordfreq`` Zipf frequency under ``RARE``: "tenant", "csv" and "pagination" are
  ordinary words; "Keycloak", "grpc" and "Brotli" are not) and not a common word of another language
  ("bekomme" in a question half in German);
- it is not a docs word inflected ("JWTs"), a typo of one (one edit away: "dependecy"), two of them run
  together ("healthcheck", "subpath") or a compound of them (``LineItem``, ``RequireRole``: the user's own
  classes), nor the name of an exception (``DetachedInstanceError``: the question is about the error).

Only short English questions are judged (``MAX_WORDS`` words of prose): in a pasted issue report a rare name
is usually context ("I also use chainlit"), not what is asked. Thresholds chosen on gold v2 train and the
FastAPI questions of the scope and harm pools (``python -m experiments.coverage_check choose``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from programs.language import looks_english
from programs.trust.premise import OTHER_FRAMEWORK, prose
from programs.trust.vocabulary import ApiVocabulary

RARE = 1.7  # Zipf frequency (log10 per billion words) under which a word is not ordinary English
MAX_WORDS = 30  # longer questions are not judged
MAX_NAMES = 2  # more unknown names than this: more likely garbled or another language than a tool's name

# a word of letters, hyphens inside ("fastapi-cache"); not part of a path, host, identifier or number
_NAME = re.compile(r"(?<![\w/.@-])[A-Za-z][A-Za-z-]*[A-Za-z](?![\w/@(]|[.-]\w)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# a question that compares or ports ("coming from Litestar", "multer -> UploadFile", "instead of X") names the
# other tool as context, and what it asks of FastAPI is usually in the docs
_COMPARISON = re.compile(
    r"\b(?:coming|migrat\w*|port(?:ing|ed)?|mov(?:e|es|ed|ing)|switch\w*|translat\w*|convert\w*)\s+(?:\w+\s+)?(?:from|to|into)\b"
    r"|\b(?:equivalent|instead of|vs\.?|versus|compared? (?:to|with)|alternative to|like in|used)\b|→|->",
    re.IGNORECASE,
)
_CAMEL_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


OTHER_LANGUAGES = ("de", "es", "fr", "it", "nl", "pt")  # a word common in one of these is not a tool's name
FOREIGN = 3.0  # Zipf frequency at which a word counts as common there ("bekomme", "voeg", "uniquement")


@lru_cache(maxsize=4096)
def _zipf(word: str, language: str = "en") -> float:
    """English from wordfreq's large list (rare words are the point: ~40 MB in memory); the other languages from
    its small ones (only their common words matter: ~2 MB each, where the large ones took 250 MB together)."""
    from wordfreq import zipf_frequency  # a data package (~60 MB on disk), imported when first asked

    return float(zipf_frequency(word, language, wordlist="best" if language == "en" else "small"))


def _foreign(word: str) -> bool:
    """A common word of another language: a question half in German or Dutch names no tool by it."""
    return any(_zipf(word, language) >= FOREIGN for language in OTHER_LANGUAGES)


def _edits(word: str) -> set[str]:
    """Every string one deletion, insertion, substitution or swap away from ``word``."""
    out: set[str] = set()
    for i in range(len(word) + 1):
        out.update(word[:i] + c + word[i:] for c in _LETTERS)
        if i < len(word):
            out.add(word[:i] + word[i + 1 :])
            out.update(word[:i] + c + word[i + 1 :] for c in _LETTERS)
        if i < len(word) - 1:
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return out


class DocsWords:
    """Every word of the docs, lower-cased, identifiers also split at ``_``: what "the docs mention" means."""

    def __init__(self, vocab: ApiVocabulary) -> None:
        words = set(vocab.words)
        for word in vocab.words:
            if "_" in word:
                words.update(part for part in word.split("_") if part)
        self.words = frozenset(words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self.words

    def near(self, word: str) -> bool:
        """One edit from a docs word (a typo), for words long enough that one edit rarely makes another word."""
        return len(word) >= 5 and not self.words.isdisjoint(_edits(word.lower()))


_INFLECTIONS = ("s", "es", "ed", "d", "ing")
_ERROR_NAME = re.compile(r"(Error|Exception|Warning|Errno)$")


def _compound(word: str, docs: DocsWords) -> bool:
    """Two docs words of 3+ letters run together: "healthcheck", "subpath", "testcontainers"."""
    return any(word[:i] in docs and word[i:] in docs for i in range(3, len(word) - 2))


def _known(name: str, docs: DocsWords) -> bool:
    parts = [p for p in name.split("-") if p]
    if all(p in docs for p in parts):
        return True
    low = name.lower()
    if any(low.endswith(s) and low[: -len(s)] in docs for s in _INFLECTIONS):  # "JWTs", "DDoSed", "passkeys"
        return True
    if _ERROR_NAME.search(name):  # an exception from a pasted traceback: the question is about the error
        return True
    if _compound(low, docs):
        return True
    camel = any(c.isupper() for c in name[1:]) and not name.isupper()
    if camel and all(p in docs for p in _CAMEL_PARTS.findall(name)):  # the user's class, made of docs words
        return True
    if _zipf(low) >= RARE or all(_zipf(p.lower()) >= RARE for p in parts) or _foreign(low):
        return True
    return docs.near(name)


def unmentioned(question: str, docs: DocsWords | ApiVocabulary) -> list[str]:
    """The names a short English question asks about that no version of the docs mentions (empty: nothing to
    object to)."""
    words = docs if isinstance(docs, DocsWords) else DocsWords(docs)
    text = _INLINE_CODE.sub(" ", prose(question))
    if len(text.split()) > MAX_WORDS or not looks_english(text):
        return []
    if OTHER_FRAMEWORK.search(text) or _COMPARISON.search(text):
        return []
    names: dict[str, str] = {}  # lower-cased -> as first written
    for name in _NAME.findall(text):
        if name.lower() not in names and not _known(name, words):
            names[name.lower()] = name
    return list(names.values()) if len(names) <= MAX_NAMES else []


def coverage_note(names: list[str]) -> str:
    """What the assistant says instead of answering from the nearest section."""
    shown = " or ".join(names[:MAX_NAMES])
    return (
        f"The FastAPI docs do not mention {shown}, so I can't answer this from them; that project's own "
        f"documentation is the place to look. If {shown} is only context, ask again without it, or ask about "
        "what FastAPI itself offers for what you want to do."
    )
