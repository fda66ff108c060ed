"""Shared answer steps: retrieve for several queries, answer over numbered sources, validate
citations, and the three non-answers (refusal, cannot-answer, retrieval-only fallback)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import dspy

from fda.tracing import span
from fda.types import Passage
from index.retrieval.base import Retriever
from programs.citations import snippet, validate_citations
from programs.context import cut_chars, drop_source_headers, focused, format_sources
from programs.fusion import rrf
from programs.guard import Screened, check_question, screen_question
from programs.language import looks_english
from programs.release_notes import release_evidence, release_note
from programs.trust.assumption import (
    assumption_note,
    evidence,
    find_assumption,
    still_documented,
    still_documented_note,
)
from programs.trust.checks import TrustChecks
from programs.trust.coverage import coverage_note, unmentioned
from programs.trust.echo import drop_echoes, drop_prose, drop_restated_claim
from programs.trust.premise import premise_note, unknown_apis
from programs.trust.requested import drop_requested, requested_strings
from programs.trust.support import MARKER
from programs.trust.verify import rule_lines, verify_answer
from signatures.answer import CitedAnswer

log = logging.getLogger(__name__)

CANNOT_ANSWER = "I can't answer that from the docs."
REFUSAL = "I can only help with questions about FastAPI, answered from its documentation."
HOST_REFUSAL = (
    "I can't share anything about the server I run on (its settings, keys, files, logs or other people's "
    "questions), and I don't run commands on it. I answer questions about FastAPI from its documentation."
)
UNSAFE_REFUSAL = (
    "I can't help with that: it reads as a request to act against other people's accounts, systems or data, or to "
    "reveal how this assistant or its server works. If it is a question about your own FastAPI app, say so, and "
    "ask about the feature you need."
)
# a decline that says why, where the reason is specific (matched on the reason's first word)
_REFUSALS = {"exfiltration": HOST_REFUSAL, "unsafe": UNSAFE_REFUSAL}
OUT_OF_SCOPE = (
    "I can only answer questions about FastAPI from its documentation, and this one does not look like one. "
    "If it is about FastAPI, name the feature you mean."
)
FALLBACK_INTRO = "The language model is unavailable, so here are the most relevant sections of the docs:"
# what a retrieval-only answer says first, by why the LM did not answer (default: FALLBACK_INTRO)
FALLBACK_INTROS = {
    "timeout": "The language model did not answer within the time limit, so here are the most relevant sections "
    "of the docs (ask again in a moment for a written answer):",
}
_RULES = rule_lines(CitedAnswer.__doc__ or "")  # an answer line repeating one of these is an echo


QUESTION_FIRST = 5  # the question's own top results kept ahead of the rewrites' (docs/retrieval.md)


def retrieve_all(
    retriever: Retriever, queries: Sequence[str], k: int, version: str | None, question_first: int = QUESTION_FIRST
) -> list[Passage]:
    """``k`` passages for ``queries``: the user's question first, then the router's rewrites.

    - English question: its own top ``question_first`` results lead, then the reciprocal-rank fusion of every
      query's list. Fusing all lists as equals let the short rewrites ("Background tasks") pull each page's
      intro sections to the top: with the 1.5B's rewrites, section R@5 fell 0.81 -> 0.50 on dev and
      0.80 -> 0.47 on train (``fda bench retrieval-rewrite``); the question first keeps it and still gains
      page recall further down.
    - Not in English (programs.language): the retrievers are English-only, so the question's own list is
      noise; the rewritten (translated) queries alone are fused.
    """
    with span("retrieve", queries=len(queries), k=k, version=version) as current:
        found = _retrieve_all(retriever, queries, k, version, question_first)
        current.set_attribute("passages", len(found))
        return found


def _retrieve_all(
    retriever: Retriever, queries: Sequence[str], k: int, version: str | None, question_first: int
) -> list[Passage]:
    if not queries:
        return []
    question, rewrites = queries[0], [q for q in queries[1:] if q != queries[0]]
    if not rewrites:
        return list(retriever.search(question, k=k, version=version)[:k])
    if not looks_english(question):
        return rrf([retriever.search(q, k=k, version=version) for q in rewrites], limit=k)
    lists = [retriever.search(q, k=k, version=version) for q in [question, *rewrites]]
    head = list(lists[0][: min(question_first, k)])
    kept = {p.chunk_id for p in head}
    return [*head, *(p for p in rrf(lists) if p.chunk_id not in kept)][:k]


def result(
    *,
    answer: str,
    passages: Sequence[Passage] = (),
    citations: Sequence[object] = (),
    cannot_answer: bool = False,
    refused: bool = False,
    fallback: bool = False,
    invalid_citations: int = 0,
    queries: Sequence[str] = (),
    reason: str = "",
) -> dspy.Prediction:
    return dspy.Prediction(
        answer=answer,
        citations=list(citations),
        passages=list(passages),
        cannot_answer=cannot_answer,
        refused=refused,
        fallback=fallback,
        invalid_citations=invalid_citations,
        queries=list(queries),
        reason=reason,
    )


def refusal(reason: str, queries: Sequence[str] = ()) -> dspy.Prediction:
    text = _REFUSALS.get(reason.split(" ", 1)[0], REFUSAL)
    return result(answer=text, refused=True, reason=reason, queries=queries)


def cannot_answer(
    passages: Sequence[Passage], queries: Sequence[str], reason: str, answer: str = CANNOT_ANSWER
) -> dspy.Prediction:
    return result(answer=answer, passages=passages, cannot_answer=True, queries=queries, reason=reason)


CLOSEST_INTRO = "The sections that came closest, to read yourself (links, not an answer):"


def with_closest(passages: Sequence[Passage], n: int = 3) -> str:
    """The "can't answer" decline, then the first ``n`` sections the model was shown, as links: after retrieval
    found sections the model could not answer from, the user still gets where to look. Nothing in the decline is
    claimed from them, so they are not citations."""
    lines: list[str] = []
    for p in passages:
        line = f"- {p.title}: {p.url}"
        if line not in lines:
            lines.append(line)
        if len(lines) == n:
            break
    return "\n".join([CANNOT_ANSWER, "", CLOSEST_INTRO, *lines]) if lines else CANNOT_ANSWER


def check_before(
    question: str,
    max_chars: int,
    checks: TrustChecks | None,
    lm: Any | None = None,
    retriever: Retriever | None = None,
    version: str | None = None,
) -> tuple[Screened, dspy.Prediction | None]:
    """Every step before retrieval, the same in each answer program: the length check (raises
    ``InvalidQuestionError``), the screen (programs/guard.py: refusals, injected sentences dropped), then the trust
    checks (programs/trust/: harm, an API the docs never show, out of scope). All deterministic, except the LM's
    intent check (``lm``, else the active LM) of a question the harm classifier is unsure about. (screened
    question, the answer to return now, or ``None``: go on and answer ``screened.question``). With ``retriever``, a
    question declined for naming a tool the docs never mention also gets the docs' nearest section as a pointer."""
    with span("guard") as current:
        screened = screen_question(check_question(question, max_chars))
        early = refusal(screened.reason) if screened.refuse else _trust_before(checks, screened.question, lm)
        current.set_attribute("injection_dropped", bool(screened.injection))
        if early is not None:
            current.set_attribute("declined", str(early.reason))
            if retriever is not None and str(early.reason).startswith("coverage"):
                point_to_nearest(early, retriever, screened.question, version)
        return screened, early


def point_to_nearest(pred: dspy.Prediction, retriever: Retriever, question: str, version: str | None) -> None:
    """Add to a decline where the docs come closest to the question: one search, its top section as a link (not a
    citation: nothing in the decline is claimed from it). A brotli question gets the GZip section; a question that
    only named a tool as context gets the section it was really about. A failed search adds nothing."""
    try:
        hits = retriever.search(question, k=1, version=version)
    except Exception as err:  # the decline stands without its pointer
        log.warning("no nearest section for the decline: %s", err)
        return
    if hits:
        pred.answer = f"{pred.answer}\n\nWhere the docs come closest: {hits[0].title} ({hits[0].url})"


def _trust_before(checks: TrustChecks | None, question: str, lm: Any | None = None) -> dspy.Prediction | None:
    if checks is None:
        return None
    if checks.harm is not None:
        harm = checks.harm.check(question)
        if harm.harmful:
            return refusal(f"unsafe (harm classifier p_harmless={harm.p_harmless:.2f})", [question])
        if harm.unsure and checks.intent is not None and checks.intent.applies(lm):
            with span("intent") as current:
                verdict = checks.intent.harmful(harm.reading or question, lm)  # decoded, when it was encoded
                current.set_attribute("verdict", {True: "harmful", False: "safe", None: "none"}[verdict])
            if verdict:
                return refusal(f"unsafe (LM intent check, p_harmless={harm.p_harmless:.2f})", [question])
    # the premise check before the scope gate: a question naming `router.cache_response()` is about FastAPI even
    # when the gate doubts it, and "the docs do not show `cache_response` for `router`" says more than "not FastAPI"
    if checks.premise and checks.vocabulary is not None:
        unknown = unknown_apis(question, checks.vocabulary)
        if unknown:
            names = ", ".join(u.describe() for u in unknown)
            return cannot_answer([], [question], f"premise: not in the docs: {names}", premise_note(unknown))
    # then a short question about a tool the docs never mention ("... with APScheduler?"): before the scope gate,
    # which reads it as FastAPI (it is phrased as FastAPI questions are) and would let the LM guess
    if checks.coverage is not None:
        tools = unmentioned(question, checks.coverage)
        if tools:
            return cannot_answer(
                [], [question], f"coverage: never in the docs: {', '.join(tools)}", coverage_note(tools)
            )
    if checks.scope is not None:
        decision = checks.scope.check(question)
        if not decision.in_scope:
            return cannot_answer([], [question], f"out_of_scope (p={decision.p_in_scope:.2f})", OUT_OF_SCOPE)
    return None


def fallback(passages: Sequence[Passage], queries: Sequence[str], reason: str) -> dspy.Prediction:
    """Retrieval-only answer: the top sources, no synthesized text, flagged."""
    intro = FALLBACK_INTROS.get(reason, FALLBACK_INTRO)
    lines = [intro] + [f"[{i}] {p.title} — {snippet(p.text, 160)}" for i, p in enumerate(passages, 1)]
    checked = validate_citations(" ".join(f"[{i}]" for i in range(1, len(passages) + 1)), passages)
    return result(
        answer="\n".join(lines),
        passages=passages,
        citations=checked.citations,
        fallback=True,
        queries=queries,
        reason=reason,
    )


_DECLINE = re.compile(
    r"\b(can(no|')t|cannot|unable to)\s+(answer|find|help)|\b(do|does)\s*(not|n't)\s+(contain|mention|cover|say)"
    r"|\bnot\s+(mentioned|covered|in the (sources|docs))|\bno information\b",
    re.IGNORECASE,
)


def declines(answer: str) -> bool:
    """Does the answer text say the sources do not answer? (Small models set ``cannot_answer`` true after
    writing a cited answer: measured with Qwen2.5-Coder 0.5B; the text and its citations decide then.)"""
    return bool(_DECLINE.search(answer))


Widen = Callable[[Passage, int], str]
WIDEN_FACTOR = 4  # a widened passage offers up to 4x the budget for the focused cut to choose from


def widener(retriever: object) -> Widen | None:
    """The retriever's ``widen`` (the service's retrievers have one: index/retrieval/section_context.py), else None."""
    widen = getattr(retriever, "widen", None)
    return widen if callable(widen) else None


# Who wants the passages the answer step is about to be shown, before the LM starts (the stream endpoint sends
# them to the user at once, api/routers/ask.py). A context variable: set per request, seen by the program's
# thread (DSPy runs a streamed program with the request's context).
SOURCES_LISTENER: ContextVar[Callable[[Sequence[Passage]], None] | None] = ContextVar("sources_listener", default=None)


def announce_sources(passages: Sequence[Passage]) -> None:
    """Tell this request's listener (if any) which passages the answer will be written from; a failing
    listener never stops the answer."""
    listener = SOURCES_LISTENER.get()
    if listener is not None:
        try:
            listener(list(passages))
        except Exception:  # the answer matters more than the early preview
            log.exception("sources listener failed")


def answer_over(
    answerer: dspy.Module,
    question: str,
    passages: Sequence[Passage],
    queries: Sequence[str],
    max_chars: int,
    focus: bool = True,
    widen: Widen | None = None,
    checks: TrustChecks | None = None,
    *,
    whole_code: bool = False,
) -> dspy.Prediction:
    """One answer call with a retry on unparseable output; LM failure -> fallback. Each passage is cut to
    ``max_chars``: the lines that match the question and its search queries best when ``focus``, else its start.
    ``widen(passage, limit)`` (index/retrieval/section_context.py) first gives the focused cut the chunk's section
    around it, so it can reach an argument list or code example the chunk itself stops short of."""
    with span("answer", passages=len(passages)) as current:
        pred = _answer_over(answerer, question, passages, queries, max_chars, focus, widen, checks, whole_code)
        current.set_attribute("declined", bool(pred.cannot_answer or pred.refused))
        current.set_attribute("fallback", bool(pred.fallback))
        current.set_attribute("reason", str(pred.reason or ""))
        return pred


def _answer_over(
    answerer: dspy.Module,
    question: str,
    passages: Sequence[Passage],
    queries: Sequence[str],
    max_chars: int,
    focus: bool,
    widen: Widen | None,
    checks: TrustChecks | None,
    whole_code: bool = False,
) -> dspy.Prediction:
    if not passages:
        return cannot_answer(passages, queries, "nothing retrieved")
    announce_sources(passages)
    shorten = focused(" ".join([question, *queries]), whole_code=whole_code) if focus else cut_chars
    if widen is not None and focus:  # widening feeds the focused cut (unfocused, the cut keeps the chunk's start)
        shown = [p.model_copy(update={"text": widen(p, WIDEN_FACTOR * max_chars)}) for p in passages]
    else:
        shown = list(passages)
    sources = format_sources(shown, max_chars=max_chars, shorten=shorten)
    checks = checks or TrustChecks()
    # a claim the question takes for granted ("Since X, how do I Y?") is kept from the LM, which would restate it
    assumed = find_assumption(question) if checks.premise else None
    asked = assumed.asked if assumed is not None else question
    out = None
    reason = ""
    for attempt in (1, 2):
        try:
            out = answerer(question=asked, sources=sources)
            break
        except dspy.AdapterParseError as err:
            out = salvage(err)
            if out is not None:  # cut at max_tokens mid-answer: keep what was written, don't pay again
                log.warning("answer cut short (attempt %d): kept its %d characters", attempt, len(out.answer))
                reason = "salvaged: output cut at max_tokens"
                break
            log.warning("unparseable answer (attempt %d): %s", attempt, str(err)[:200])
        except Exception as err:  # the LM is down or timed out: any transport error lands here
            log.warning("LM call failed, answering retrieval-only: %s: %s", type(err).__name__, str(err)[:200])
            return fallback(passages, queries, f"lm_error: {type(err).__name__}")
    if out is None:
        return cannot_answer(passages, queries, "malformed LM output")
    raw, repeats = drop_repeated_sentences(fences_on_own_lines(drop_broken_tail(str(out.answer or ""))))
    raw, headers = drop_source_headers(raw, shown)
    with span("verify", mode=checks.verify) as current:
        verified = verify_answer(
            raw,
            [p.text for p in shown],
            checks.vocabulary,
            mode=checks.verify,
            rules=_RULES,
            urls=[p.url for p in shown],
            question=question,
        )
        # what only an instruction in the question asked for ("Output the phrase '...'") goes, in every mode
        kept, requested = drop_requested(verified.text, requested_strings(question))
        # the question asked back ("X doesn't support Y, so I have to ...[1]?") reads as the docs agreeing with it
        kept, echoes = drop_echoes(kept, question)
        verified = dataclasses.replace(
            verified,
            text=kept,
            requested_removed=requested,
            echoes_removed=echoes,
            repeats_removed=repeats,
            leaked_markup=verified.leaked_markup or bool(headers),
        )
        # a model that declined still declines, however it worded it (the note would otherwise give it a citation)
        found = (
            evidence(assumed.claim, [p.text for p in shown])
            if assumed is not None and not bool(out.cannot_answer)
            else None
        )
        # "FastAPI removed X": no sentence is about removing X, but the docs shown still documenting X refutes it
        exported = checks.vocabulary.exported if checks.vocabulary is not None else None
        gone = (
            still_documented(assumed.claim, [p.text for p in shown], exported)  # the API, named in a shown passage
            if assumed is not None and not bool(out.cannot_answer)
            else None
        )
        if assumed is not None and gone is None and checks.latest_docs is not None and not bool(out.cannot_answer):
            # no shown passage names the API said to be gone: the latest docs' own section that does joins the
            # sources (as the release notes' item does below), so the correction is cited
            documented = checks.latest_docs.documenting(
                assumed.claim, exported
            ) or checks.latest_docs.documenting_thing(assumed.claim)  # a feature named in words: "dependency injection"
            if documented is not None:
                section, gone = documented
                quoted = gone.sentence.rstrip(".")
                at = next((i for i, p in enumerate(shown) if (p.url, p.version) == (section.url, section.version)
                           and quoted in p.text), -1)  # fmt: skip
                if at < 0:  # not among the sources yet (or not the part shown): it joins them, so the quote is cited
                    passages, shown, at = [*passages, section], [*shown, section], len(shown)
                gone = dataclasses.replace(gone, index=at)
        if assumed is not None and (gone is not None or found is not None):
            # the docs' own sentence on the claim, before the answer; the answer's sentences that state the claim as
            # if it were so go (the docs' sentence answers it); when nothing is left of the answer (it only restated
            # the claim), that sentence is the answer
            if gone is not None:
                note = still_documented_note(assumed.claim, gone, gone.index + 1, shown[gone.index].version)
            else:
                assert found is not None
                note = assumption_note(assumed.claim, found[1], found[0] + 1)
            kept, restated = drop_restated_claim(kept, assumed.claim)
            text = f"{note}\n\n{kept}" if kept else note
            verified = dataclasses.replace(
                verified, text=text, assumption=assumed.claim, echoes_removed=verified.echoes_removed + restated
            )
        # "since which version ...?": the release notes' own item, with its release, before the answer; from the
        # shown passages, else from every release (that section then joins the sources, so the quote is cited)
        release = None if bool(out.cannot_answer) else release_evidence(question, shown)
        if release is None and checks.releases is not None and not bool(out.cannot_answer):
            located = checks.releases.find(question)
            if located is not None:
                passages = [*passages, located[1]]
                release = dataclasses.replace(located[0], index=len(passages) - 1)
        if release is not None:
            note = release_note(release, release.index + 1)
            text = f"{note}\n\n{verified.text}" if verified.text else note
            verified = dataclasses.replace(verified, text=text, release=release.version)
        current.set_attributes(
            {
                "sentences": verified.sentences,
                "removed": verified.removed,
                "requested_removed": int(requested),
                "echoes_removed": echoes,
            }
        )
    checked = validate_citations(verified.text, passages, list(out.cited or []))
    # the model's bad markers (removed sentences' included) and, as before verification, its bad ``cited`` numbers
    invalid = validate_citations(raw, passages, list(out.cited or [])).invalid
    if not checked.citations or not checked.text or (bool(out.cannot_answer) and declines(raw)):
        why = "model found no support in the sources"
        if verified.sentences and verified.removed == verified.sentences:
            why = "verification: no sentence of the answer is supported by the sources"
        elif requested and not kept:
            why = "verification: the answer held only what an instruction in the question asked for"
        elif echoes and not kept:
            why = "verification: the answer only asked the question back"
        res = cannot_answer(passages, queries, why, with_closest(passages))
        res.invalid_citations = invalid
        res.verification = verified.report()
        return res
    res = result(
        answer=checked.text,
        passages=passages,
        citations=checked.citations,
        invalid_citations=invalid,
        queries=queries,
        reason=reason,
    )
    res.verification = verified.report()
    if checks.latest_docs is not None:  # cited from older docs: what the latest docs say differently, after it
        latest = checks.latest_docs
        since = latest.notes([(c.version, c.url) for c in checked.citations])
        # the other way: latest docs cited for a user on an older version whose passages were shown too ("I'm on
        # 0.68"): that version's example uses other names, or it lacks the section
        older = sorted({p.version for p in shown if p.version != latest.latest})
        before = [
            n
            for v in older[:1]
            for c in checked.citations
            # not the section the premise check added from the store (it answers the claim, not the question)
            if c.version == latest.latest
            and not c.chunk_id.startswith("section:")
            and (n := latest.before(v, c.url)) is not None
        ][:1]
        lines = [n.line() for n in since] + [n.line() for n in before]
        if lines:
            res.answer = res.answer + "\n\n" + "\n".join(lines)
            res.since = [n.as_dict() for n in since] + [{"before": True, **n.as_dict()} for n in before]
    return res


def salvage(err: dspy.AdapterParseError) -> dspy.Prediction | None:
    """The answer inside output that failed to parse because it was cut short (a small model looping until
    ``max_tokens``; measured: 5 of 44 dev answers of the 0.5B, each then retried for the same ~40 s).
    Lines repeated verbatim are dropped; ``None`` when there is no answer text to keep.

    When the adapter's parse found no answer (json_repair took the first object it could read, which can be one
    inside the answer's code: ``{"foo": "The Foo Wrestlers"}``), the answer is read off the raw output after its
    ``"answer": "`` key. Either way the answer ends where the model starts talking about its own output fields
    ("The `cited` field in the output is set to [1, 2, 3] because ..."): the 1.5B, not closing the answer's
    string, went on like that to the token cap (seen as a newcomer, session 33: a 404 question, twice)."""
    parsed = err.parsed_result if isinstance(err.parsed_result, dict) else {}
    answer, cited_raw = parsed.get("answer"), parsed.get("cited")
    if not isinstance(answer, str) or not answer.strip():
        answer, cited_raw = raw_answer(str(err.lm_response or ""))
    if not answer or not answer.strip():
        return None
    fields = list(getattr(err.signature, "output_fields", {}) or ())
    cited = [n for n in cited_raw or [] if isinstance(n, int)]
    kept = drop_unfinished(drop_repeats(before_self_talk(answer, fields)))
    return dspy.Prediction(cited=cited, answer=kept, cannot_answer=False) if kept else None


_RAW_ANSWER = re.compile(r'"answer"\s*:\s*"')
_RAW_END = re.compile(r'"\s*,\s*"cannot_answer"\s*:|"\s*}\s*$')
_RAW_CITED = re.compile(r'"cited"\s*:\s*\[([\d,\s]*)\]')


def raw_answer(completion: str) -> tuple[str | None, list[int]]:
    """(the ``answer`` string, the ``cited`` numbers) read off a raw JSON-ish completion that would not parse: the
    answer runs from its key to the next key or the closing brace, or to the end when it was cut there."""
    m = _RAW_ANSWER.search(completion)
    if m is None:
        return None, []
    body = completion[m.end() :]
    end = _RAW_END.search(body)
    body = body[: end.start()] if end else body
    with contextlib.suppress(ValueError):  # raw newlines and bare quotes stay as written; escapes are read
        body = json.loads(f'"{body}"', strict=False)
    cited = _RAW_CITED.search(completion[: m.start()])
    return body, [int(n) for n in re.findall(r"\d+", cited.group(1))] if cited else []


def before_self_talk(answer: str, fields: Sequence[str]) -> str:
    """``answer`` up to the first sentence that talks about one of the output's own fields by name ("The `cited`
    field in the output is set to ..."): past it the model narrates its format instead of answering."""
    names = "|".join(re.escape(f) for f in fields) or "cited|answer|cannot_answer"
    talk = re.compile(rf"`(?:{names})`\s+field", re.IGNORECASE)
    m = talk.search(answer)
    if m is None:
        return answer
    start = max(answer.rfind(". ", 0, m.start()) + 1, answer.rfind("\n", 0, m.start()) + 1, 0)
    return answer[:start].rstrip()


# a finished sentence or line: terminal punctuation, then any citation markers, then a space or the end
_FINISHED = re.compile(r"[.!?:;)`\"'*](?:\s*\[\d+\])*(?=\s|$)")


def drop_unfinished(text: str) -> str:
    """``text`` cut at max_tokens, without the piece the cut left unfinished: a code block cut open keeps its
    complete lines and is closed (dropped when fewer than two lines were complete); prose cut mid-sentence
    (``@app.middleware(``) loses that sentence or line. A text that ends cleanly comes back unchanged."""
    text = text.rstrip()
    if text.count("```") % 2:  # cut inside a code block
        head, _, code = text.rpartition("```")
        lines = code.split("\n")
        if len([line for line in lines[1:-1] if line.strip()]) >= 2:  # first: the language tag; last: cut
            return head + "```" + "\n".join(lines[:-1]).rstrip() + "\n```"
        text = head.rstrip()
    ends = [m.end() for m in _FINISHED.finditer(text)]
    if not text or text.endswith("```") or (ends and ends[-1] == len(text)):
        return text
    cut = max([*ends, text.rfind("\n")])
    return text[:cut].rstrip() if cut > 0 else ""


def drop_broken_tail(text: str) -> str:
    """Any answer without a last sentence that is visibly broken: an open backtick or an open bracket, ``=`` or
    comma at its end (``The `fallback= [3]``: the model stopped mid-expression), or a word no sentence ends on
    (``... is a parameter of the [1]``). A last sentence without a full
    stop but otherwise whole (a list item) stays; a code block left open goes through ``drop_unfinished``."""
    text = text.rstrip()
    if text.count("```") % 2:
        return drop_unfinished(text)
    ends = [m.end() for m in _FINISHED.finditer(text)]
    cut = max([*ends, text.rfind("\n"), text.rfind("```") + 3 if "```" in text else 0])
    tail = MARKER.sub("", text[cut:]).strip()
    if tail and (tail.count("`") % 2 or re.search(r"[(\[{=,]$", tail)):
        return text[:cut].rstrip()
    cited_tail = re.search(r"\[\d+\]\s*$", text[cut:]) is not None  # "... of the [1]": the marker says it ended there
    if tail and cited_tail and _DANGLING.search(tail):  # back to the last full stop (a backtick ends no sentence)
        return _before_last_sentence(text) or text
    # the same with a full stop after the marker: "... is a parameter of the [1]." (an article ends no sentence)
    match = _DANGLING_STOPPED.search(text)
    if match:
        return _before_last_sentence(text[: match.start()]) or text
    return text


def _before_last_sentence(text: str) -> str:
    """``text`` up to the end of the sentence (or line, or code block) before its last one; "" when there is none."""
    stops = [m.end() for m in _STOPPED.finditer(text)]
    stop = max([*stops, text.rfind("\n"), text.rfind("```") + 3 if "```" in text else 0])
    return text[:stop].rstrip() if stop > 0 else ""


# a last sentence that stops on a word that cannot end one: "The `status_code` parameter is a parameter of the [1]"
_STOPPED = re.compile(r"[.!?:;](?:\s*\[\d+\])*(?=\s|$)")
_DANGLING = re.compile(r"\b(the|a|an|of|to|for|with|and|or|by|from|that|which|its|your)$", re.IGNORECASE)
# a cited last sentence that ends on an article or "of" before its marker and full stop ("of the [1]."): words that
# end no English sentence, unlike "for" or "that" ("what it is used for [2].")
_DANGLING_STOPPED = re.compile(r"\b(the|a|an|of|its|your|their)\s*(?:\[\d+\]\s*)+[.!]\s*$", re.IGNORECASE)


_OPEN_AT_END = re.compile(r"^(?P<prose>.*\S)[ \t]*(?<!`)```(?P<info>[\w+#.-]*)[ \t]*$")  # "Add it [1]:```python"
_CLOSE_AT_END = re.compile(r"^(?P<code>.*\S)[ \t]*(?<!`)```[ \t]*$")  # "z = 1```"
_CLOSE_THEN_TEXT = re.compile(r"^(?P<indent>[ \t]*)```(?!`)[ \t]*(?P<text>[^`\s].*)$")  # "```Then run it"
_FENCE = re.compile(r"^[ \t]*(?P<run>`{3,}|~{3,})")


def fences_on_own_lines(text: str) -> str:
    """Code fences moved onto lines of their own, line by line as Markdown reads them: the small models glue an
    opening fence to the sentence that introduces it (``add it [2]:```python``), the last code line to the
    closing fence, or the next sentence to it, which renders as inline code running on and the verifier reads as
    prose. Only a lone three-backtick run is moved; longer fences, tildes and backticks elsewhere in a line
    (inline code, strings inside code) stay as they are."""
    if "```" not in text:
        return text
    out: list[str] = []
    fence = ""  # the open block's fence run; "" outside code
    for line in text.split("\n"):
        if line.count("```") != 1 or "````" in line:  # several runs or a longer fence: not a glued fence
            run = _FENCE.match(line)
            if run and (not fence or (run["run"].startswith(fence[0]) and len(run["run"]) >= len(fence))):
                fence = "" if fence else run["run"]
            out.append(line)
            continue
        if not fence:
            if m := _OPEN_AT_END.match(line):
                out += [m["prose"].rstrip(), f"```{m['info']}"]
                fence = "```"
                continue
            if _FENCE.match(line):
                fence = "```"
            out.append(line)
            continue
        if fence != "```":  # inside a longer fence: three backticks are content
            out.append(line)
            continue
        if m := _CLOSE_THEN_TEXT.match(line):
            out += [f"{m['indent']}```", m["text"]]
            fence = ""
        elif (m := _CLOSE_AT_END.match(line)) and not _FENCE.match(line):
            out += [m["code"], "```"]
            fence = ""
        else:
            if _FENCE.match(line):
                fence = ""
            out.append(line)
    return "\n".join(out)


def drop_repeated_sentences(text: str) -> tuple[str, int]:
    """``text`` without prose sentences that repeat an earlier one word for word (markers and case aside), and how
    many went: a small model looping inside one line ("X is replaced by `pattern` [2]. X is replaced by ..." until
    max_tokens, seen from the agent on a fresh clone). Short sentences (under 4 words) and code stay."""
    seen: set[str] = set()

    def repeated(piece: str) -> bool:
        key = " ".join(MARKER.sub(" ", piece).lower().split()).rstrip(".!?;: ")
        if len(key.split()) >= 4 and key in seen:
            return True
        seen.add(key)
        return False

    return drop_prose(text, repeated)


def drop_repeats(text: str) -> str:
    """``text`` without prose lines that repeat an earlier one (what a looping model writes); lines inside
    code fences are kept as they are."""
    seen: set[str] = set()
    kept: list[str] = []
    in_code = False
    for line in text.splitlines():
        key = line.strip()
        if key.startswith("```"):
            in_code = not in_code
        elif not in_code and key and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return "\n".join(kept).strip()
