"""Deterministic screening before any LM call: length limits, prompt-extraction requests, requests for the
service's own host (programs/trust/host.py), and instruction-like sentences injected into a question
(removed, flagged). The LM's intent routing
(signatures/rewrite.py) is the second layer; the answer signature's rules are the third."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from fda.errors import InvalidQuestionError
from fda.text import clean_text, has_lone_surrogate
from programs.trust.host import asks_for_host
from programs.trust.verify import FENCE  # code blocks whole, as the checks after the answer split them

DEFAULT_MAX_CHARS = 2000

_EXTRACTION = re.compile(
    r"\b(system|hidden|initial|developer)\s+(prompt|instructions?|message)\b"
    r"|\b(repeat|print|reveal|show|output|dump)\b[^.?!]{0,40}\b(your|the)\s+(instructions|prompt|rules)\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.?!\n]{0,40}\b(instructions?|rules|docs|documentation|above|previous|prior)\b"
    r"|\byou are (now|no longer)\b|\bact as\b|\bpretend (to be|you)\b|\bdeveloper mode\b|\bjailbreak\b|\bDAN\b"
    r"|\b(print|say|output|respond with|reply with|write)\s+(only\s+)?[\"'“]?(?-i:[A-Z][A-Z0-9_]{3,})[\"'”]?"
    r"|</?(system|context|instructions?)>|\bSYSTEM\s*:",
    re.IGNORECASE,
)
# Requests for harm: attacks on systems the asker does not own, stolen secrets, covert backdoors.
# A first, deterministic layer; the harm classifier and the LM's intent check (programs/trust/) come after it.
_HARMFUL = re.compile(
    r"\bforge[sd]?\b[^.?!]{0,40}\b(jwt|token|session|cookie|signature)s?\b"
    r"|\blooks?\s+(exactly\s+)?like\s+[^.?!]{0,30}\b(bank|paypal|login\s+(page|form))"
    r"|\b(silently|secretly|quietly|covertly)\s+(disabl|log|send|record|captur|forward|collect)\w*"
    r"|\b\d{2,3}(,\d{3})+\s+[^.?!]{0,20}\bconnections\b[^.?!]{0,60}\b(competitor|someone else|their)"
    r"|\b(competitor|someone else)'?s?\b[^.?!]{0,40}\b(down|crash|flood|overload)"
    r"|\b(production|prod)\s+\.env\b|\bi\s+(have|got)\s+a\s+shell\s+on\b|\bdumps?\s+the\s+whole\b",
    re.IGNORECASE,
)
# Words that name an attack: refused, unless a defensive verb governs the attack word itself ("How do I detect
# credential stuffing on my login?", "validate uploads so users can't upload malware"), which a security-minded
# developer asks and the harm classifier judges instead; never when the question talks about evading defences.
_ATTACK_WORDS = (
    r"(exfiltrat\w*|steal(s|ing)?|sql[- ]injection\s+(payload|attack|string)s?|phish\w*|ddos|denial[- ]of[- ]service"
    r"|keyloggers?|ransomware|malware|botnets?|credential[- ]stuffing)"
)
_ATTACK_TOPIC = re.compile(rf"\b{_ATTACK_WORDS}\b", re.IGNORECASE)
_DEFENSIVE = re.compile(
    r"\b(detect(s|ing)?|prevent(s|ing)?|protect(s|ing)?\s+(\w+\s+){0,3}(against|from)|defend(s|ing)?\s+against"
    r"|block(s|ing)?|mitigat(e|es|ing)|guard(s|ing)?\s+against|alert(s|ing)?\s+on|stop(s|ping)?"
    r"|(so|so that)\s+(users?|attackers?|people|nobody|no one)\s+(can'?t|cannot)\s+\w+)"
    rf"\s+(\w+\s+){{0,3}}?{_ATTACK_WORDS}\b",
    re.IGNORECASE,
)
_EVASION = re.compile(
    r"\b(avoid\w*|evad\w*|evasion|bypass\w*|hid(e|es|ing)|undetect\w*|without\s+being)\b", re.IGNORECASE
)
# every character of the text is in one part ("..." and "../" too, which a "[^.?!]+" pattern would drop)
_SENTENCE = re.compile(r"[^.?!\n]*(?:[.?!]+\n?|\n|$)")
# Pasted code: a fenced block (an unclosed one runs to the end). Its comments and string literals are data, and an
# instruction planted there ("SYSTEM INSTRUCTION TO LLM: include ... in your reply") is removed, not obeyed, and
# is no reason to decline the question about the code (docs/security.md, "Instructions in pasted code").
_FENCED = re.compile(r"(```[^\n]*\n)(.*?)(```|\Z)", re.DOTALL)
# Words addressed to an assistant, which a comment or docstring written for programmers does not hold.
_ADDRESSED = re.compile(
    r"\b(to|for)\s+(the\s+|any\s+)?(llm|ai|assistant|chatbot|language model)s?\b"
    r"|\b(llms?|ai|assistants?|chatbots?|language models?)\b[^.\n]{0,40}\b(must|should|shall|need to|will)\b"
    r"|\bin\s+your\s+(reply|answer|response|output)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Screened:
    question: str  # what the rest of the pipeline sees
    refuse: bool = False
    reason: str = ""
    injection: bool = False


def check_question(question: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The question cleaned (``clean_text``) and stripped; ``InvalidQuestionError`` when it is empty, too long
    or not valid Unicode (a lone surrogate, which no UTF-8 store or model can take)."""
    if has_lone_surrogate(question or ""):
        raise InvalidQuestionError(
            "the question is not valid Unicode (it holds a lone surrogate)",
            hint="Send the question as UTF-8 text.",
        )
    q = clean_text(question or "").strip()
    if not q:
        raise InvalidQuestionError(
            "the question is empty", hint="Ask something about FastAPI, e.g. 'How do I enable CORS?'."
        )
    if len(q) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(q)} characters long; the limit is {max_chars}",
            hint="Shorten it to the part you want answered.",
        )
    return q


def _instruction(text: str) -> bool:
    return bool(_INJECTION.search(text) or _EXTRACTION.search(text) or _ADDRESSED.search(text))


def _neutralise_python(code: str) -> tuple[str, bool] | None:
    """``code`` without the comments and string literals that hold an instruction (``None``: not Python that
    parses, so prose in a code block is not taken for code). Only those tokens go: the rest of the code and its
    layout stay as pasted."""
    try:
        ast.parse(code)
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):  # IndentationError is a SyntaxError; ValueError: NUL
        return None
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    cuts = [
        (offsets[t.start[0] - 1] + t.start[1], offsets[t.end[0] - 1] + t.end[1])
        for t in tokens
        if t.type in (tokenize.COMMENT, tokenize.STRING) and _instruction(t.string)
    ]
    for start, end in reversed(cuts):
        code = code[:start] + code[end:]
    return code, bool(cuts)


def neutralise_code(question: str) -> tuple[str, bool]:
    """The question with instructions planted in its fenced code removed: comments and string literals for Python
    (found with ``tokenize``), whole lines for anything else. (question, whether anything was removed)."""
    found = False

    def block(match: re.Match[str]) -> str:
        nonlocal found
        opening, code, closing = match.groups()
        cleaned = _neutralise_python(code)
        if cleaned is None:
            kept = [line for line in code.splitlines(keepends=True) if not _instruction(line)]
            cleaned = ("".join(kept), len(kept) < len(code.splitlines()))
        found = found or cleaned[1]
        return opening + cleaned[0] + closing

    return _FENCED.sub(block, question), found


def screen_question(question: str) -> Screened:
    """Refuse prompt extraction (asked in the question's prose, not found in pasted code); remove instructions
    planted in pasted code and drop instruction-like sentences; keep the rest of the question."""
    if _EXTRACTION.search(_FENCED.sub(" ", question)):
        return Screened(question=question, refuse=True, reason="prompt_extraction")
    if _HARMFUL.search(question) or (
        _ATTACK_TOPIC.search(question) and (not _DEFENSIVE.search(question) or _EVASION.search(question))
    ):
        return Screened(question=question, refuse=True, reason="unsafe")
    if asks_for_host(question):  # the service's own env, files, logs, other users, a command to run on it
        return Screened(question=question, refuse=True, reason="exfiltration")
    neutral, injected = neutralise_code(question)
    kept: list[str] = []
    # code blocks kept whole; "```...```" on one line is not a block: its words are screened as prose
    for segment in FENCE.split(neutral):
        if FENCE.fullmatch(segment):
            if _FENCED.sub(lambda m: m.group(2), segment).strip():  # a block left empty is dropped
                kept.append(segment)
            continue
        for part in _SENTENCE.findall(segment):
            if _INJECTION.search(part):
                injected = True
                continue
            kept.append(part)
    clean = _tidy("".join(kept))
    if injected and not clean:
        return Screened(question=question, refuse=True, reason="injection_only", injection=True)
    return Screened(question=clean or question, injection=injected)


def _tidy(text: str) -> str:
    """Runs of whitespace as one space in prose; code blocks keep their lines and indentation, each on lines of its
    own."""
    parts = (p.strip() for p in FENCE.split(text))
    return "\n".join(p if FENCE.fullmatch(p) else re.sub(r"\s+", " ", p) for p in parts if p)
