"""A claim the question takes for granted: kept out of the answer prompt, and set against the docs' own words.

    found = find_assumption("Since FastAPI requires every path operation to be async def, how do I call a "
                            "blocking driver?")
    found.claim   # "FastAPI requires every path operation to be async def"
    found.asked   # "how do I call a blocking driver?"  (what the answering LM is given)
    evidence(found.claim, passage_texts)   # (1, "When you declare a path operation function with normal def ...")

Small models restate a premise built into the question ("Since X, how do I Y?", "X, so how do I Y?", "X,
right?") and cite a source after it, even when that source says the opposite (docs/trust.md: the embedded
1.5B corrected 2 of 13 such premises in gold v2 train; a separate LM call asked to judge the premise called
all of the first five "supported", at 11-38 s each). The check needs no LM:

1. **Find** the claim by the shape of the sentence only (a presupposition trigger: a leading "since / given
   that / as" clause, a declarative clause before ", so how / what / I ...", a statement closed by a tag
   question such as ", right?", a one-sentence why-question that presupposes a demand: "Why does FastAPI
   require X?"). Claims about the user's own code ("I added ...", "my app ...") are not claims about FastAPI
   and are left alone.
2. **Ask without it**: the answering LM gets the rest of the question (``asked``), so the claim cannot prime
   its answer; a statement with a tag question keeps its whole text (there is no rest); a why-question is asked
   as the yes/no question under it ("Does FastAPI require X? If so, why?").
3. **Quote the docs**: the sentence of the shown passages that shares most words with the claim is put before
   the answer, verbatim and cited, so the user reads what the docs say about the assumption whatever the model
   wrote. Whether the docs agree or not is not judged here (lexical overlap cannot see negation); the quote is
   the docs' own words, so it is grounded either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from programs.trust.premise import prose
from programs.trust.support import SENTENCE_BREAK, content_words

_LEAD = re.compile(
    r"^\s*(?:so\s+|and\s+|but\s+)?(?:since|given that|because|considering that|now that)\s+(?P<claim>[^,?]{12,200}?),\s*(?P<rest>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
_SO = re.compile(
    r"^\s*(?P<claim>[^?]{12,200}?),?\s+so\s+(?P<rest>(?:how|what|why|where|which|when|do|does|should|can|could|"
    r"is|are|am|must|i|we|you)\b[^?]*\?.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(
    r"^\s*(?P<claim>[^?]{12,300}?),?\s+(?:right|correct|isn't it|aren't they|doesn't it|don't they|no|yes|true|"
    r"am i right|is that right|is that correct|is that true)\s*\?+\s*$",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^\s*(?:how|what|why|where|which|when|who|do|does|did|is|are|am|can|could|should|would|will|may)\b", re.IGNORECASE
)
# an instruction, not a claim ("Show me how to ..., so I can ...")
_IMPERATIVE = re.compile(
    r"^\s*(?:please\s+)?(?:show|tell|give|write|build|make|create|explain|help|let|find|list|generate)\b", re.IGNORECASE
)
# the claim names FastAPI (in any case: "why does fastapi require ...") or an API: `code`, CamelCase (TestClient),
# snake_case (openapi_url); any case changed no finding over 3,433 gold v1/v2 train/dev and scope-set questions
_ABOUT_API = re.compile(
    r"(?i:fastapi)|`[^`]+`|\b[A-Za-z]*[a-z][A-Z]\w*|\b[A-Z]{2,}[a-z]\w*|\b[a-z0-9]+_[a-z0-9_]+\b|\w\("
)
# a claim about the user's own setup, not about FastAPI ("I added my auth middleware first", "my app returns 422")
_OWN = re.compile(r"^\s*(?:i|i'm|i've|im|my|we|we're|our|me|this|it|here)\b", re.IGNORECASE)
_LEADING_WORDS = re.compile(r"^\s*(?:so|and|but|also|ok|okay|well|yes|hmm)\s*,?\s+", re.IGNORECASE)
MIN_CLAIM_WORDS = 3  # content words: "it works" is not a claim worth quoting the docs against
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*_\"'(])|\n+")
_NOT_PROSE = re.compile(r"^\s*(?:#|///|```|\||[-*+]\s*$|!!!|<)")


# "Why does FastAPI require every path operation to be async def?": a why-question whose claim is a requirement or a
# limitation ("require / need / force / have to / must / only accept ..."), with FastAPI or an API as its subject.
# Why-questions in general stay alone (users ask "why does my X fail" far more often than they presuppose a wrong
# fact); this shape says what FastAPI demands, which the docs can speak to. Added in session 31 after a newcomer
# check ("Why does FastAPI require every path operation function to be async def?" answered by restating it, citing
# the page that says plain def works); it fires on no gold v2 train or dev-select row (below, docs/trust.md).
_SUBJECT = r"(?P<subject>[^?,;:!]{2,60}?)"
_REST = r"(?P<rest>\s+[\w`'\"(][^?]{0,160})"  # what is demanded: a word first, not a comma ("require, for bodies, ...")
_WHY_DEMAND = (
    # "why does/do <subject> require/need/force/insist on/have to/only accept ... <rest>?"
    re.compile(
        rf"^\s*why\s+(?P<aux>does|do)\s+{_SUBJECT}\s+(?P<verb>(?:only|always)\s+(?:accept|allow|support|work with|let|"
        rf"return|run)|require|need|force|insist on|have to)\b{_REST}\?+\s*$",
        re.IGNORECASE,
    ),
    # "why is/are <subject> required/needed/mandatory/necessary (to ...)?"
    re.compile(
        rf"^\s*why\s+(?P<aux>is|are)\s+{_SUBJECT}\s+(?P<verb>required|needed|mandatory|necessary|forced)\b"
        rf"(?P<rest>(?:\s+[\w`'\"(][^?]{{0,160}})?)\?+\s*$",
        re.IGNORECASE,
    ),
    # "why must <subject> be/use/return ...?": the modal is the demand
    re.compile(
        rf"^\s*why\s+(?P<aux>must)\s+{_SUBJECT}\s+(?P<verb>be|use|return|run|call|declare|have|inherit|import)\b"
        rf"{_REST}\?+\s*$",
        re.IGNORECASE,
    ),
)
# a subject these words are in is not a noun phrase naming FastAPI or an API: a verb the question really turns on
# ("Why does FastAPI return 422 for a required ...?", "... seem to require"), a negation, a clause, or people
# ("Why do you need ...", "... my Optional field")
_NOT_SUBJECT = frozenset(
    re.split(
        r"\s+",
        "return returns raise raises show shows mark marks give gives throw throws send sends seem seems appear appears "
        "look looks keep keeps still not never no so when if as while there then also really even my our me us i we "
        "you your people one someone users everyone anybody it this that these those is are be was were get make",
    )
)
_THIRD_PERSON = {"have": "has"}
WHY_TAIL = "If so, why?"  # after the yes/no question the LM gets in place of a why-question


def _why_claim(m: re.Match[str]) -> tuple[str, str] | None:
    """(the claim, the question without the presupposition) of a why-question of a ``_WHY_DEMAND`` shape, or None
    when its subject is not a short noun phrase: "why does FastAPI require X" -> ("FastAPI requires X", "Does
    FastAPI require X? If so, why?")."""
    aux, subject, verb = (m.group(g).strip() for g in ("aux", "subject", "verb"))
    rest = (m.group("rest") or "").strip()
    words = subject.lower().replace("`", " ").split()
    if not 1 <= len(words) <= 5 or _NOT_SUBJECT.intersection(words) or _OWN_WORDS.search(rest):
        return None  # not a noun phrase, or about the user's own app ("... need so much memory in my app?")
    aux_l, verb_l = aux.lower(), verb.lower()
    if aux_l == "does":  # "does FastAPI only work with" -> "FastAPI only works with": the first verb takes the -s
        parts = verb_l.split()
        at = next(i for i, w in enumerate(parts) if w not in ("only", "always"))
        parts[at] = _THIRD_PERSON.get(parts[at], parts[at] + "s")
        said = " ".join(parts)
    elif aux_l == "do":
        said = verb_l
    else:  # must / is / are: "must be async", "is required", "are needed"
        said = f"{aux_l} {verb_l}"
    claim = " ".join(f"{subject} {said} {rest}".split())
    asked = " ".join(f"{aux_l.capitalize()} {subject} {verb_l} {rest}".split()) + f"? {WHY_TAIL}"
    return claim, asked


@dataclass(frozen=True)
class Assumption:
    claim: str  # what the question takes for granted
    asked: str  # the question with the claim left out (the whole question when nothing else is asked)


def _tidy(claim: str) -> str:
    return _LEADING_WORDS.sub("", claim.strip()).strip(" ,;:-").rstrip(".")


def _is_claim(text: str) -> bool:
    """A declarative statement about FastAPI: not a question, not about the user's own code, a few content words."""
    return (
        not _QUESTION_START.match(text)
        and not _OWN.match(text)
        and not _IMPERATIVE.match(text)
        and _ABOUT_API.search(text) is not None
        and text.count("`") % 2 == 0
        and text.count("(") == text.count(")")
        and "?" not in text
        and len(content_words(text)) >= MIN_CLAIM_WORDS
    )


# what is left refers back to the claim ("..., how do I set its media type?"): without it the LM cannot tell
_REFERS_BACK = re.compile(r"\b(?:it|its|it's|they|them|their|this|that|these|those|such|one)\b", re.IGNORECASE)


def _without(question: str, lead: str) -> str:
    """``question`` with the claim's clause (``lead``, as it stands in the prose) taken out; the whole question
    when the clause is not found verbatim (the prose dropped a host name inside it), when nothing would be left,
    or when what is left points back at the claim (a pronoun: "how do I set its media type?")."""
    lead = lead.strip()
    at = question.find(lead)
    if at < 0:
        return question
    head, tail = question[:at].rstrip(), question[at + len(lead) :].lstrip()
    if len(content_words(head + " " + tail)) < 2 or _REFERS_BACK.search(tail):
        return question
    return f"{head} {tail[:1].upper()}{tail[1:]}".strip()


def find_assumption(question: str) -> Assumption | None:
    """The first claim the question's prose takes for granted, by the shape of its sentence; None when none."""
    sentences = [s.strip() for s in SENTENCE_BREAK.split(prose(question)) if s.strip()]
    for sentence in sentences:
        for pattern in (_LEAD, _SO):
            m = pattern.match(sentence)
            if m is not None:
                claim = _tidy(m.group("claim"))
                if _is_claim(claim):
                    return Assumption(claim=claim, asked=_without(question, sentence[: m.start("rest")]))
        m = _TAG.match(sentence)
        if m is not None:
            claim = _tidy(m.group("claim"))
            if _is_claim(claim):
                return Assumption(claim=claim, asked=question)
        if len(sentences) == 1:  # a why-question that is the whole question: nothing else asked to keep
            for pattern in _WHY_DEMAND:
                m = pattern.match(sentence)
                found = _why_claim(m) if m is not None else None
                if found is not None and _is_claim(found[0]):
                    return Assumption(claim=found[0], asked=found[1])
    return None


def passage_sentences(text: str) -> list[str]:
    """The prose sentences of a passage: code blocks, headings, admonition fences and table rows left out."""
    text = re.sub(r"```.*?(?:```|\Z)", "\n", text, flags=re.DOTALL)
    out = []
    for line in text.splitlines():
        if _NOT_PROSE.match(line):
            continue
        # a lead-in to code ("... sending two HTTP headers like:") says nothing on its own
        out += [s.strip() for s in _SENTENCES.split(line) if len(s.strip()) >= 20 and not s.strip().endswith(":")]
    return out


EVIDENCE_MIN_SHARED = 2  # content words the claim and the quoted sentence share, at least
EVIDENCE_MIN_RECALL = 0.6  # share of the claim's content words the sentence (with its passage's API names) covers
# words every claim and passage share, and negations (lexical overlap cannot use them; "doesn't" -> "doesn")
_WEAK = frozenset(
    {"fastapi", "doesn", "don", "isn", "aren", "can", "cannot", "won", "never", "always", "only", "every"}
)
_API_WORD = re.compile(r"\b(?:[A-Za-z]*[a-z][A-Z]\w*|[A-Z]{2,}[a-z]\w*|[a-z0-9]+_[a-z0-9_]+)\b")


def evidence(claim: str, passages: Sequence[str]) -> tuple[int, str] | None:
    """(index of the passage, its sentence) that covers most of ``claim``'s content words; None when none covers
    enough. The API names of the claim (``TrustedHostMiddleware``, ``jsonable_encoder``) count as covered by any
    sentence of a passage that holds them ("Wildcard domains such as ``*.example.com`` are supported" in the
    TrustedHostMiddleware section). Ties go to the sentence that says least else (Dice), then the earlier
    passage (the retriever's better one)."""
    wanted = content_words(claim) - _WEAK
    if len(wanted) < EVIDENCE_MIN_SHARED:
        return None
    api = {w for name in _API_WORD.findall(claim) for w in content_words(name)} & wanted
    best: tuple[float, float, int, str] | None = None
    for i, text in enumerate(passages):
        named = {w for w in api if w in content_words(text)}
        for sentence in passage_sentences(text):
            words = content_words(sentence) - _WEAK
            shared = len(wanted & (words | named))
            recall = shared / len(wanted)
            if shared < EVIDENCE_MIN_SHARED or recall < EVIDENCE_MIN_RECALL:
                continue
            dice = 2 * len(wanted & words) / (len(wanted) + len(words)) if words else 0.0
            if best is None or (recall, dice) > best[:2]:
                best = (recall, dice, i, sentence)
    return (best[2], best[3]) if best else None


# a claim that something is gone ("FastAPI removed BackgroundTasks in 0.100", "`Form` no longer exists")
_GONE = re.compile(
    r"\b(?:removed|dropped|got rid of|is gone|are gone|no longer (?:exists?|has|have|"
    r"supports?|includes?|ships?|provides?)|(?:doesn't|does not|don't|do not) (?:exist|have|support|ship|include)"
    r"(?: \w+){0,3} any ?more)\b",
    re.IGNORECASE,
)


def claims_gone(claim: str) -> bool:
    """Does the claim say something is gone (removed, dropped, no longer exists)?"""
    return _GONE.search(claim) is not None


# the claim is about the user's own code ("HTTPException is gone from my handler"), not about FastAPI
_OWN_WORDS = re.compile(r"\b(?:my|our|i|we|me|us)\b", re.IGNORECASE)
_KIND = r"(?:\s+(?:class|function|object|parameter|dependency|module|argument|decorator|helper|method))?"


def _gone_templates(name: str) -> re.Pattern[str]:
    """Where ``name`` stands as the thing removed: the object of "removed/dropped/no longer supports", or the
    subject of "was removed / is gone / no longer exists" (not any API the claim mentions: "FastAPI replaced
    `on_event` with `lifespan`" does not say `lifespan` is gone)."""
    n = rf"`?{re.escape(name)}(?:\(\))?`?"
    return re.compile(
        rf"\b(?:removed|dropped|got rid of)\s+(?:the\s+|its\s+)?(?:support\s+for\s+)?{n}"
        rf"|\bno longer (?:supports?|has|have|includes?|ships?|provides?)\s+(?:the\s+)?{n}"
        rf"|\b(?:doesn't|does not|don't|do not)\s+(?:have|support|ship|include)\s+(?:the\s+)?{n}(?:\s+\w+){{0,3}}\s+any ?more"
        rf"|{n}{_KIND}\s+(?:was|were|has been|have been|is|are|got)\s+(?:removed|dropped|gone)"
        rf"|{n}{_KIND}\s+(?:no longer exists?|(?:doesn't|does not|don't|do not) exist any ?more)",
        re.IGNORECASE,
    )


# words that make a passage's sentence about the name agree with a removal, not refute it
_GOING = re.compile(r"\b(?:remov|deprecat|no longer|dropp|delet|obsolete|legacy)", re.IGNORECASE)
_NAMED = re.compile(r"`([A-Za-z_][\w.]*)(?:\(\))?`|\b([A-Za-z]*[a-z][A-Z]\w*|[A-Z]{2,}[a-z]\w*|[a-z0-9]+_[a-z0-9_]+)\b")
_LEAD_IN = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class StillDocumented:
    name: str  # the API the claim says is gone (or the feature, as the user wrote it, when ``code`` is False)
    index: int  # the passage that documents it
    sentence: str  # its prose sentence naming it, verbatim
    code: bool = True  # an API name (shown in backticks), not a feature in words ("dependency injection")


def still_documented(
    claim: str, passages: Sequence[str], exported: Callable[[str], bool] | None = None
) -> StillDocumented | None:
    """For a claim that an API is gone: the first shown passage whose prose names it, with that sentence, when no
    sentence there speaks of removal or deprecation (then the docs may agree, and nothing is said). Lexical
    overlap cannot refute "X was removed" (``evidence`` finds no sentence about removing); that the docs shown
    still document X, in their own words, can. None when the claim is not of that shape or no passage names X."""
    if not claims_gone(claim) or _OWN_WORDS.search(claim):
        return None
    names = [a or b for a, b in _NAMED.findall(claim)]
    if exported is not None:  # a plain capitalised word the docs import from fastapi: `Depends`, `Request`, `Form`
        names += [w for w in re.findall(r"\b[A-Z][a-z]+\b", claim) if exported(w) and w not in names]
    names = [n for n in names if n.lower() != "fastapi" and _gone_templates(n).search(claim)]
    if not names:
        return None
    for i, text in enumerate(passages):
        prose = re.sub(r"```.*?(?:```|\Z)", "\n", text, flags=re.DOTALL)
        for name in names:
            pattern = re.compile(rf"`{re.escape(name)}(?:\(\))?`")  # the docs' prose puts API names in backticks
            said = [
                s.strip().lstrip("*-+ ").strip()
                for line in prose.splitlines()
                if not _NOT_PROSE.match(line)
                for s in _LEAD_IN.split(line)
                if pattern.search(s) and len(s.strip()) >= 20
            ]
            if not said or any(says_gone(s) for s in said):
                continue
            return StillDocumented(name=name, index=i, sentence=as_quote(said[0]))
    return None


def still_documented_note(claim: str, found: StillDocumented, number: int, version: str | None = None) -> str:
    """The line put before the answer: the claim, then the docs' sentence that shows the API, cited."""
    where = f"The FastAPI {version} docs" if version else "The docs"
    what = f"`{found.name}`" if found.code else found.name
    return f'You assume that {_lower_first(claim)}. {where} still document {what}: "{found.sentence}" [{number}]'


# A feature said to be gone, in words rather than an API name ("FastAPI dropped support for Pydantic models in
# request bodies in 0.100", "Since FastAPI removed dependency injection in 0.100, ..."). The phrase ends where the
# claim goes on to a version, a time or another clause; a phrase that runs on past a few words is not taken. Only
# removal verbs count ("no longer includes uvicorn" is about what ships, and can be true), FastAPI must be the one
# said to remove it ("Starlette removed ..." is not about these docs), and the claim must say when or how it went
# (a version, "anymore", "no longer", "support for", "in the latest version"): "FastAPI removed the password from
# the response" is about data, not a feature.
_THING_END = (
    r"(?=\s+in\s+(?:fastapi\s+)?(?:v|version\s+)?\d|\s+in\s+(?:the\s+)?(?:latest|recent|new|newer|current)\b"
    r"|\s+(?:since|as of|after|starting|from|any ?more|so|and|but|because|when|now)\b|\s*[,.;:!?(]|\s*$)"
)
_WORDS = r"[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,5}?"
_ARTICLE = r"(?:the\s+|its\s+|any\s+|a\s+|an\s+|some\s+)?"
_GONE_THING = re.compile(
    r"\b(?:removed|dropped|got rid of|no longer supports?|(?:doesn't|does not|don't|do not) support)\s+"
    rf"{_ARTICLE}(?:support\s+for\s+)?{_ARTICLE}(?P<thing>{_WORDS}){_THING_END}",
    re.IGNORECASE,
)
_THING_GONE = re.compile(
    rf"^(?:FastAPI's\s+|the\s+)?(?:support\s+for\s+)?(?P<thing>{_WORDS})\s+(?:support\s+)?"
    r"(?:was|were|has been|have been|is|are|got)\s+(?:removed|dropped|gone)\b",
    re.IGNORECASE,
)
_WHEN_GONE = re.compile(
    r"\d+\.\d+|\bv\d|\bany ?more\b|\bno longer\b|\bsupport for\b|\bin\s+(?:the\s+)?(?:latest|recent|new|newer|current)\b",
    re.IGNORECASE,
)
# abbreviations users write for a feature the docs spell out
_ALIASES = {"di": "dependency injection"}
# a phrase that is no feature: "removed the need for async def", "dropped the dependency on requests"
_NOT_A_FEATURE = re.compile(
    r"(?:in|on|at|to|of|from|since|for|by|with|need|needs|requirement|necessity|dependency on|reliance on|"
    r"limit|limits|restriction|restrictions)\b",
    re.IGNORECASE,
)
_OWN_THING = re.compile(r"\b(?:my|our|your|his|her|their|it|its|this|that|these|those)\b", re.IGNORECASE)


def _root(word: str) -> str:
    """``content_words``' stem with the plural forms it leaves apart brought together: "bodies" and "body" ->
    "body", "middlewares" ("middlewar") and "middleware" -> "middlewar"."""
    if word.endswith("e") and len(word) >= 5:
        word = word[:-1]
    return word[:-1] + "y" if word.endswith("i") and len(word) >= 4 else word


def roots(text: str) -> frozenset[str]:
    """The content words of ``text`` (``content_words``), plural forms brought together (``_root``)."""
    return frozenset(_root(w) for w in content_words(text))


# words that say nothing about which feature ("support for", "the ability"), as ``roots`` gives them
_NOT_THING = roots("support feature features fastapi ability anymore thing option way use usage")


@dataclass(frozen=True)
class GoneThing:
    thing: str  # as the user wrote it ("dependency injection", "Pydantic models in request bodies")
    words: frozenset[str]  # its content words' roots, which a sentence of the docs must all hold


def gone_thing(claim: str) -> GoneThing | None:
    """The feature a removal claim says FastAPI dropped, when it is named in two words or more; None when the claim
    is not of that shape (``_GONE_THING``' comment), names the user's own code, a version ("Python 3.6"), data
    removed from something ("the password from the response") or no feature ("the need for ...")."""
    if not claims_gone(claim) or _OWN_WORDS.search(claim) or not _WHEN_GONE.search(claim):
        return None
    m = _THING_GONE.match(claim)  # "X was removed in the latest version": X
    if m is None:
        m = _GONE_THING.search(claim)
        if m is None or not re.search(r"\bfastapi\b", claim[: m.start()], re.IGNORECASE):
            return None
    thing = m.group("thing").strip()
    if re.match(r"\s+from\b", claim[m.end() :], re.IGNORECASE):
        return None
    if _OWN_THING.search(thing) or re.search(r"\d", thing) or _NOT_A_FEATURE.match(thing):
        return None
    words = roots(_ALIASES.get(thing.lower(), thing)) - _NOT_THING
    # one word is too loose a key into the docs ("sessions" meets SQLModel's Session)
    return GoneThing(thing=thing, words=words) if len(words) >= 2 else None


THING_SLACK = 2  # other words a sentence may have between the feature's words ("request body, you use Pydantic models")


def thing_sentences(thing: GoneThing, text: str) -> list[str]:
    """The prose sentences of ``text`` that hold every word of ``thing`` close together: within a run of its word
    count plus ``THING_SLACK`` words ("Dependency Injection"; not "an example *path operation* with parameters"
    for "example parameter")."""
    return [s for s in passage_sentences(text) if thing.words <= roots(s) and _span(thing.words, s) is not None]


def _span(words: frozenset[str], sentence: str) -> int | None:
    """The shortest run of the sentence's words that holds all of ``words``, when it is short enough; else None."""
    tokens = [roots(t) for t in re.findall(r"[A-Za-z0-9_]+", sentence)]
    limit = len(words) + THING_SLACK
    for start, first in enumerate(tokens):
        if not first & words:
            continue
        seen: set[str] = set()
        for end in range(start, min(start + limit, len(tokens))):
            seen |= tokens[end] & words
            if seen == words:
                return end - start + 1
    return None


def says_gone(sentence: str) -> bool:
    """Does a docs sentence speak of removal or deprecation (then the docs may agree with a removal claim)?"""
    return _GOING.search(sentence) is not None


def as_quote(sentence: str) -> str:
    """A docs sentence as the note quotes it: list markers and a trailing colon off, closed by a full stop."""
    sentence = (
        re.sub(r"^[-*+]\s+", "", sentence.strip()).rstrip().rstrip(":").rstrip()
    )  # "**FastAPI** ..." keeps its **
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _lower_first(claim: str) -> str:
    first, _, rest = claim.partition(" ")
    if re.fullmatch(r"[A-Z][a-z]+", first):  # "Setting ..." reads on; "FastAPI", "HTTPException", "TestClient" stay
        return f"{first.lower()} {rest}".strip()
    return claim


def assumption_note(claim: str, sentence: str, number: int) -> str:
    """The line put before the answer: the claim as the user put it, then the docs' sentence, verbatim, cited."""
    return f'You assume that {_lower_first(claim)}. What the docs say: "{sentence.rstrip()}" [{number}]'
