"""Does the question name an API the docs never show? ``Depends(get_db, timeout=5)``,
``FastAPI(strict_mode=True)``, ``app.enable_graphql(...)``: a false premise the small LMs restate as fact
(docs/trust.md). Checked against :class:`ApiVocabulary` before any LM call; the answer then says what the
docs do not show instead of echoing the claim.

    unknown_apis("What does FastAPI(strict_mode=True) change?", vocab)   # [Unknown('strict_mode', 'FastAPI')]

Only code-shaped references count (a call with keywords, ``obj.method(``, an import from ``fastapi``, a
backticked name): a word in prose is never a claim about an API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from programs.trust.installed import accepts, exists
from programs.trust.vocabulary import ATTRIBUTE_REF, IDENT, ApiVocabulary, calls

# Objects whose methods and attributes the docs document: `app.` or `router.` followed by a name the docs
# never show is an invented API. Other receivers (a user's own objects) are not judged.
RECEIVERS = frozenset({"app", "router", "fastapi", "FastAPI", "APIRouter", "request", "Request", "response"})
_IMPORT = re.compile(r"\bfrom\s+(fastapi(?:\.[a-z_]+)*)\s+import\s+\(?\s*([A-Za-z_][\w\s,]*)")
_QUALIFIED = re.compile(r"\bfastapi\.((?:[a-z_]+\.)*)([A-Za-z_]\w*)")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_HOST = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|app|cloud|co|ai|sh|me|info|xyz|local)\b(?![(\w])")
# another framework named: ``app.use()`` or ``@app.before_request`` is then likely its app, not FastAPI's
OTHER_FRAMEWORK = re.compile(
    r"\b(?:flask|express(?:\.js)?|django|sanic|quart|bottle|falcon|tornado|aiohttp|litestar|koa|spring|rails"
    r"|laravel|nest(?:js)?)\b",
    re.IGNORECASE,
)
_ASSIGNED = re.compile(r"[\w\])]\s*=\s*$")


@dataclass(frozen=True)
class Unknown:
    name: str
    owner: str = ""  # the callable or object it was attached to

    def describe(self) -> str:
        if self.owner:
            return f"`{self.name}` for `{self.owner}`"
        return f"`{self.name}`"


_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_CODE_LINE = re.compile(
    r"^(\s{2,}|\t|@|>>>|\$ )|^\s*(def|async|class|import|from|return|if|for|with|try|except|raise)\b"
    r"|^\s*[\w.\[\]'\"]+\s*=[^=]|[:{(,\\]\s*$|^\s*[)}\]]"
)


# an HTML/XML tag, attributes and all (``<img src=x onerror="...">``): pasted markup, not what the user says
_TAG = re.compile(
    r"(?<![\w<])<[A-Za-z][\w:-]*(?:\s+[\w:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>]+))?)*\s*/?>"  # opening
    r"|</[A-Za-z][\w:-]*\s*>"  # closing; an opening one right after a word is a comparison ("count<limit")
)


def prose(question: str) -> str:
    """The question without pasted code: fenced blocks and code-shaped lines go (a user's own code may
    call anything, Flask included); what is left is what the user claims or asks. URLs and host names
    (``myapp.herokuapp.com``) go too: ``app.herokuapp`` is not an attribute of an app; so do HTML tags
    (``onerror`` in a pasted ``<img>`` is no tool the user asks about)."""
    lines = _FENCED.sub("\n", question).splitlines()
    kept = "\n".join(_TAG.sub(" ", line) for line in lines if not _CODE_LINE.search(line))
    return _HOST.sub(" ", _URL.sub(" ", kept))


def unknown_apis(question: str, vocab: ApiVocabulary) -> list[Unknown]:
    """APIs the question's prose names that the docs never show (empty: nothing to object to)."""
    question = prose(question)
    receivers = frozenset[str]() if OTHER_FRAMEWORK.search(question) else RECEIVERS
    found: dict[tuple[str, str], Unknown] = {}

    def flag(name: str, owner: str = "") -> None:
        found.setdefault((name, owner), Unknown(name, owner))

    for call in calls(question):
        callee, receiver = call.callee, call.name.rsplit(".", 1)[0] if "." in call.name else ""
        if vocab.knows_callable(callee):
            # FastAPI's own callables (imported from fastapi in the docs, or methods of app/router) are held to
            # the keywords the docs show them with; anything else only to names the docs never use at all
            # (``app = FastAPI(..., x=1)`` is the user's own configuration, pasted: held to the looser rule)
            assigned = bool(_ASSIGNED.search(question[: call.start]))
            own = (vocab.exported(callee) or receiver in RECEIVERS) and not assigned
            for kw in call.kwargs:
                if not vocab.knows_kwarg(callee, kw) and (own or not vocab.knows_name(kw)) and not accepts(callee, kw):
                    flag(kw, callee)
        elif receiver in receivers and not vocab.knows_member(receiver, callee) and not exists(receiver, callee):
            flag(callee, receiver)
    for m in ATTRIBUTE_REF.finditer(question):
        receiver, attr = m.group(1), m.group(2)
        if (
            receiver in receivers
            and not vocab.knows_name(attr)
            and not vocab.mentions(attr)
            and not exists(receiver, attr)
        ):
            flag(attr, receiver)
    for m in _IMPORT.finditer(question):
        for name in IDENT.findall(m.group(2)):
            if name != "import" and not vocab.knows(name):
                flag(name, m.group(1))
    for m in _QUALIFIED.finditer(question):
        if not vocab.knows(m.group(2)) and not vocab.mentions(m.group(2)):
            flag(m.group(2), "fastapi")
    return list(found.values())


def premise_note(unknown: list[Unknown]) -> str:
    """What the assistant says instead of echoing the claim."""
    names = ", ".join(u.describe() for u in unknown[:3])
    return (
        f"The FastAPI docs do not show {names}, so I can't confirm it exists or say what it does. "
        "Check the spelling, or ask about what you want to achieve."
    )
