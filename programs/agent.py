"""DocsAgent: plan, then call docs tools (programs/tools/docs.py) until the evidence answers the question or a
budget or stuck rule stops it; then the cited answer step over the evidence, with every trust check.

    agent = DocsAgent(DocsTools(retriever, db_path), max_steps=5)
    with dspy.context(lm=lm):
        pred = agent(question="How did query regex validation change between 0.68 and 0.100?")
    pred.answer, pred.citations, pred.trajectory, pred.stop_reason, pred.plan

A loop of our own over two DSPy signatures (signatures/agent.py: ``PlanTools``, ``NextAction``) and the answer
signature, so optimizers can compile each predictor. Stops (``stop_reason``): ``finished`` (the LM said so),
``max_steps``, ``token_budget`` (prompt + completion tokens), ``time_budget`` (wall clock), ``repeated_call``
(the same tool with the same arguments twice), ``no_new_evidence`` (``stale_steps`` calls in a row added no
section), ``lm_error``. Every stop answers from what was found and says why it stopped. Tool output enters the
prompts as quoted evidence; instructions inside it are not followed (the answer step's rules, and verification
keeps only sentences the evidence supports).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any

import dspy

from fda.errors import FDAError
from fda.lm.adapter import lm_scope
from fda.tracing import span
from fda.types import Passage
from programs.answering import answer_over, cannot_answer, check_before
from programs.tools.docs import DocsTools, version_key
from programs.trust.checks import TrustChecks
from programs.usage import tracked
from programs.versions import versions_in_question
from signatures.agent import NextAction, PlanTools
from signatures.answer import CitedAnswer

log = logging.getLogger(__name__)

TOOL_CHARS = 3000  # what one tool call may return (its max_chars)
# Who wants the plan and each step as they happen (POST /v1/agent/stream sends them at once): set per request,
# seen by the agent's worker thread (anyio copies the request's context into it).
AGENT_LISTENER: ContextVar[Callable[[str, Any], None] | None] = ContextVar("agent_listener", default=None)


def announce(kind: str, payload: Any) -> None:
    """Tell this request's listener (if any) about the plan or a finished step; a failing listener never stops
    the agent."""
    listener = AGENT_LISTENER.get()
    if listener is not None:
        try:
            listener(kind, payload)
        except Exception:  # the answer matters more than the live view
            log.exception("agent listener failed")


EVIDENCE_LINE_CHARS = 160  # of each section's text shown to the next-action step
MAX_FIRST_QUERY = 2000  # the question as the first search (the retrievers' own query limit)


@dataclass
class Step:
    step: int
    tool: str
    argument: str
    version: str = ""
    to_version: str = ""
    found: list[str] = field(default_factory=list)  # URLs this call returned
    new: int = 0  # sections not in the evidence before
    error: str = ""
    ms: float = 0.0


@dataclass
class Budget:
    max_steps: int = 5
    max_tokens: int = 24_000  # prompt + completion tokens of the plan and next-action calls
    max_seconds: float = 120.0
    stale_steps: int = 2


def _passage(url: str, title: str, version: str, text: str) -> Passage:
    return Passage(chunk_id=url, url=url, heading_path=title.split(" > "), text=text, version=version)


def interleave(evidence: dict[str, Passage], steps: list[Step], k: int) -> list[Passage]:
    """Up to ``k`` evidence sections with text for the answer: each call's best first, then each call's second...
    so a later call (the release notes of compare_versions) is not crowded out by an early search's hits."""
    rounds: list[list[str]] = [[u for u in s.found if u in evidence and evidence[u].text.strip()] for s in steps]
    picked: list[str] = []
    for rank in range(max((len(r) for r in rounds), default=0)):
        for urls in rounds:
            if rank < len(urls) and urls[rank] not in picked:
                picked.append(urls[rank])
    return [evidence[u] for u in picked[:k]]


class DocsAgent(dspy.Module):
    def __init__(
        self,
        tools: DocsTools,
        budget: Budget | None = None,
        k: int = 5,
        passage_chars: int = 700,
        max_question_chars: int = 2000,
        lm: dspy.LM | None = None,
        checks: TrustChecks | None = None,
        search_first: bool = True,
    ) -> None:
        super().__init__()
        self.tools = tools
        # the question itself is searched before the LM chooses: measured on gold v2 dev-select's multi-hop and
        # version rows, the 1.5B's own first queries found the gold section half as often as the question does
        self.search_first = search_first
        self.budget = budget or Budget()
        self.k, self.passage_chars, self.max_question_chars = k, passage_chars, max_question_chars
        self.lm = lm
        self.checks = checks or TrustChecks()
        self.planner = dspy.Predict(PlanTools)
        self.next_action = dspy.Predict(NextAction)
        self.answerer = dspy.Predict(CitedAnswer)

    def forward(self, question: str, version: str | None = None, max_steps: int | None = None) -> dspy.Prediction:
        with tracked() as usage:  # the LM's intent check before the plan counts too (and against the budget)
            screened, early = check_before(question, self.max_question_chars, self.checks, self.lm)
            if early is not None:
                early.trajectory, early.stop_reason, early.plan = [], "declined before any tool", []
                early.usage = usage()
                return early
            # a request may ask for fewer steps than the operator allows, never more
            steps = min(max_steps, self.budget.max_steps) if max_steps else self.budget.max_steps
            budget = Budget(**{**asdict(self.budget), "max_steps": steps})
            with lm_scope(self.lm):
                pred = self._run(screened.question, version, budget, usage)
        pred.usage = usage()
        pred.injection_detected = screened.injection
        return pred

    # -- the loop ------------------------------------------------------------------------------------------------
    def _run(self, question: str, version: str | None, budget: Budget, usage: Any) -> dspy.Prediction:
        t0 = time.perf_counter()
        # the versions the question names (two or more: a change between them), else the one asked for: a small LM
        # offered every ingested version searched 0.68 for a question about today's FastAPI (seen on a real run)
        named = versions_in_question(question, self.tools.versions, self.tools.latest)
        # a version the question names is the default for calls that name none ("... in FastAPI 0.68?")
        default = named[0] if named else version or self.tools.latest
        allowed = named or [default]
        versions = ", ".join(allowed)
        plan: list[str] = []
        try:
            with span("agent.plan"):
                plan = [str(p) for p in self.planner(question=question, versions=versions).plan or []][:4]
        except Exception as err:  # no plan is not fatal: act without one
            log.warning("agent plan skipped: %s: %s", type(err).__name__, str(err)[:200])
        announce("plan", plan)
        evidence: dict[str, Passage] = {}
        steps: list[Step] = []
        seen_calls: set[tuple[str, str, str, str]] = set()
        if self.search_first:  # step 1, as the answer programs start: the question as asked
            first = ("search_docs", question[:MAX_FIRST_QUERY], "", "")
            seen_calls.add(first)
            steps.append(self._act(1, *first, default_version=default, evidence=evidence))
            announce("step", asdict(steps[-1]))
        stale = 0
        stop = "max_steps"
        for n in range(len(steps) + 1, budget.max_steps + 1):
            spent = usage()
            if spent["prompt_tokens"] + spent["completion_tokens"] >= budget.max_tokens:
                stop = "token_budget"
                break
            if time.perf_counter() - t0 >= budget.max_seconds:
                stop = "time_budget"
                break
            try:
                with span("agent.decide", step=n):
                    action = self.next_action(
                        question=question,
                        versions=versions,
                        plan="\n".join(plan) or "(no plan)",
                        calls="\n".join(self._call_line(s) for s in steps) or "(none yet)",
                        evidence=self._evidence_text(evidence),
                    )
            except Exception as err:  # the LM is down or its output unparseable: answer from what was found
                log.warning("agent step %d: %s: %s", n, type(err).__name__, str(err)[:200])
                stop = "lm_error"
                break
            tool = str(action.tool)
            if tool == "finish":
                stop = "finished"
                break
            picked_version = str(action.version or "").strip()
            picked_to = str(action.to_version or "").strip()
            call = (
                tool,
                str(action.argument or "").strip(),
                picked_version if picked_version in allowed else "",
                picked_to if picked_to in allowed else "",
            )
            if call in seen_calls:
                stop = "repeated_call"
                break
            seen_calls.add(call)
            step = self._act(n, *call, default_version=default, evidence=evidence)
            steps.append(step)
            announce("step", asdict(step))
            stale = stale + 1 if step.new == 0 else 0
            if stale >= budget.stale_steps:
                stop = "no_new_evidence"
                break
        return self._answer(question, evidence, steps, plan, stop)

    def _act(
        self,
        n: int,
        tool: str,
        argument: str,
        version: str,
        to_version: str,
        *,
        default_version: str | None,
        evidence: dict[str, Passage],
    ) -> Step:
        step = Step(step=n, tool=tool, argument=argument, version=version, to_version=to_version)
        t0 = time.perf_counter()
        v = version or default_version
        try:
            with span("agent.tool", tool=tool, step=n):
                found = self._call(tool, argument, v, to_version)
        except FDAError as err:  # a bad argument from the LM: the next step sees the error and can fix it
            step.error = str(err).splitlines()[0][:200]
            found = []
        except Exception as err:  # a tool crash is not the agent's end
            log.warning("agent tool %s failed: %s", tool, err)
            step.error = f"{type(err).__name__}"
            found = []
        step.ms = round((time.perf_counter() - t0) * 1000, 1)
        step.found = [p.url for p in found]
        for p in found:
            known = evidence.get(p.url)
            if known is None or len(p.text) > len(known.text) + 50:  # a new section, or one now read in full
                evidence[p.url] = p
                step.new += 1
        return step

    def _call(self, tool: str, argument: str, version: str | None, to_version: str) -> list[Passage]:
        """One tool call, its result as evidence passages (find_related_docs: titles only, empty text)."""
        t = self.tools
        if tool == "search_docs":
            return [
                _passage(h.url, h.title, h.version, h.snippet) for h in t.search_docs(argument, version, 4, TOOL_CHARS)
            ]
        if tool == "read_section":
            s = t.read_section(argument, version, TOOL_CHARS)
            return [_passage(s.url, s.title, s.version, s.text)]
        if tool == "compare_versions":
            older = version or t.versions[0]
            newer = to_version or t.latest
            if version_key(older) == version_key(newer):
                newer = t.latest if older != t.latest else t.versions[0]
            c = t.compare_versions(argument, older, newer, TOOL_CHARS)
            out = [_passage(s.url, s.title, s.version, s.text) for s in (c.before, c.after) if s is not None]
            out += [_passage(r.url, f"Release Notes > {r.release}", t.latest, r.text) for r in c.release_notes[:3]]
            return out
        if tool == "check_deprecations":
            return [
                _passage(d.url, d.title, d.version, d.text)
                for d in t.check_deprecations(argument, version, TOOL_CHARS)[:4]
            ]
        if tool == "find_related_docs":
            return [_passage(r.url, r.title, r.version, "") for r in t.find_related_docs(argument, 6)]
        raise FDAError(f"unknown tool {tool!r}")

    @staticmethod
    def _call_line(s: Step) -> str:
        args = json.dumps(
            {k: v for k, v in (("argument", s.argument), ("version", s.version), ("to_version", s.to_version)) if v}
        )
        what = f"error: {s.error}" if s.error else f"{len(s.found)} sections, {s.new} new"
        return f"{s.step}. {s.tool} {args} -> {what}"

    @staticmethod
    def _evidence_text(evidence: dict[str, Passage]) -> str:
        if not evidence:
            return "(nothing yet)"
        lines = []
        for i, p in enumerate(evidence.values(), start=1):
            head = " ".join(p.text.split())[:EVIDENCE_LINE_CHARS]
            lines.append(f"[{i}] {p.title} (FastAPI {p.version}) {p.url}" + (f"\n    {head}" if head else ""))
        return "\n".join(lines[-12:])

    def _answer(
        self, question: str, evidence: dict[str, Passage], steps: list[Step], plan: list[str], stop: str
    ) -> dspy.Prediction:
        passages = interleave(evidence, steps, self.k)
        queries = [s.argument for s in steps if s.tool == "search_docs"] or [question]
        if not passages:
            pred = cannot_answer([], queries, f"agent found no docs section ({stop})")
        else:
            with span("agent.answer", passages=len(passages)):
                pred = answer_over(
                    self.answerer, question, passages, queries, self.passage_chars, True, None, self.checks
                )
        pred.trajectory = [asdict(s) for s in steps]
        pred.stop_reason = stop
        pred.plan = plan
        return pred
