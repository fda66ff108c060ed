"""After the answer: every claim checked against the passage it cites, before the user sees it.

    checked = verify_answer(raw_answer, shown_texts, vocab)
    checked.text            # the answer with unsupported sentences removed (or marked), markers fixed
    checked.removed_share   # share of claim sentences removed

1. **Markup**: the adapter's field markers (``[[ ## answer ## ]]``), leaked field lines (``cited: [1]``) and
   lines that echo the signature's own rules never reach the user.
2. **Support**: each prose sentence with content words is checked against the passages (lexical support,
   programs/trust/support.py). A cited passage that supports it: kept. Another shown passage that does:
   its marker replaces the wrong one. No marker, a passage supports it: that marker is added (citations go
   after the sentence they support, not lumped at the end). Nothing supports it: removed (``mode="mark"``
   keeps it, flagged).
3. **APIs**: identifiers in code and in backticks must appear in the shown passages or in the docs' API
   vocabulary (programs/trust/vocabulary.py); a sentence or code block presenting a made-up API goes. So does a
   code block in a language the docs' code never uses (```nasm, ```csharp: it cannot come from them). A name
   presented as a method, attribute or function ("the file object's `save` method") must be in the shown
   passages' code or the question, a public member of FastAPI's classes, or defined by the docs' code.
4. **Links**: a URL in the prose must be one the shown passages hold (or a loopback address); any other is
   removed, in every mode, like markup: an answer cannot send the user to a site its sources do not name,
   whoever asked for it (the question, a pasted text, a passage). URLs inside code blocks are the user's
   data (``allow_origins=["https://myapp.example"]``) and stay.

Pure and deterministic; ``answer_over`` (programs/answering.py) runs it on the LM's raw answer, whose
markers still number the shown passages, before citations are renumbered.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from programs.trust.installed import exists, public_member
from programs.trust.premise import RECEIVERS
from programs.trust.support import LEXICAL_SUPPORT_MIN, MARKER, content_words, lexical_support
from programs.trust.vocabulary import ATTRIBUTE_REF, DEFINED, IDENT, ApiVocabulary, calls, code_parts

Mode = Literal["remove", "mark", "off"]
UNVERIFIED = " (not found in the cited docs)"

_ADAPTER_MARK = re.compile(r"\[\[\s*##\s*(\w+)\s*##\s*\]\]")
_FIELD_LINE = re.compile(r"^\s*[\"']?(question|sources|cited|cannot_answer|reasoning)[\"']?\s*[:=]", re.IGNORECASE)
_ANSWER_PREFIX = re.compile(r"^\s*[\"']?answer[\"']?\s*:\s*", re.IGNORECASE)
FENCE = re.compile(r"(```[^\n]*\n.*?(?:```|\Z))", re.DOTALL)  # split keeps the code blocks (an unclosed one too)


def map_prose(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to each stretch of prose between its code blocks, which stay as written
    (an unclosed one too): what every filter after the answer does, since code is the user's to read as is."""
    return "".join(part if part.startswith("```") else change(part) for part in FENCE.split(text))


PIECES = re.compile(r"((?<=[.!?])[ \t]+|\n+)")  # split keeps the separators between sentences
_ONLY_MARKERS = re.compile(r"^(\s*\[\d+\])+\s*[.!?]?$")
_INLINE = re.compile(r"`([^`\n]{1,120})`")
_CLAIMED = re.compile(
    r"\bFastAPI(?:'s)?\s+(?:provides|has|includes|offers|ships|comes with|exposes)?\s*(?:a|an|the|its)?\s*"
    r"(?:built-in\s+|own\s+)?`(?:fastapi\.)?([A-Z]\w+)`",
)
# "the file object's `save` method", "a method called `get_cookie()`": a name presented as a method, attribute,
# property or function (groups 1 and 2 name it and its kind, or 4 and 3)
_MEMBER_CLAIM = re.compile(
    r"`\.?([A-Za-z_]\w*)(?:\(\))?`\s+(method|attribute|property|function)s?\b"
    r"|\b(method|attribute|property|function)\s+(?:called\s+|named\s+)?`\.?([A-Za-z_]\w*)(?:\(\))?`",
    re.IGNORECASE,
)
_IMPORT = re.compile(r"\bfrom\s+(fastapi(?:\.\w+)*)\s+import\s+\(?([\w\s,]+)")
_URL = r"(?:https?://|www\.)[^\s<>()\[\]`\"']+"
_MD_LINK = re.compile(rf"\[([^\]\n]{{0,200}})\]\(\s*({_URL})\s*\)")
_BARE_URL = re.compile(_URL, re.IGNORECASE)
_LOOPBACK = re.compile(r"^(?:https?://)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?:[:/]|$)", re.IGNORECASE)
LINK_REMOVED = "(link removed: not in the cited docs)"


@dataclass(frozen=True)
class Verification:
    text: str
    sentences: int = 0  # prose sentences with content words (the claims checked)
    removed: int = 0  # claim sentences removed (or marked) as unsupported
    recited: int = 0  # markers moved to the passage that supports the sentence
    attributed: int = 0  # unmarked sentences given the marker of a passage that supports them
    code_removed: int = 0  # code blocks removed for a made-up API
    unknown_apis: tuple[str, ...] = ()
    leaked_markup: bool = False
    links_removed: int = 0  # URLs in the prose that no shown passage holds
    requested_removed: int = 0  # sentences or code lines carrying a string only the question's instruction asked for
    echoes_removed: int = 0  # sentences that asked the user's question back (programs/trust/echo.py)
    repeats_removed: int = 0  # sentences repeating an earlier one word for word (a looping model)
    debris_removed: int = 0  # lines of bare markers, dangling labels, lone list numbers, sign-offs (``tidy``)
    assumption: str = ""  # the question's claim that a docs sentence was quoted against (programs/trust/assumption.py)
    release: str = ""  # the release whose notes were quoted for a "since when" question (programs/release_notes.py)

    @property
    def removed_share(self) -> float:
        return self.removed / self.sentences if self.sentences else 0.0

    def report(self) -> dict[str, object]:
        return {
            "sentences": self.sentences,
            "removed": self.removed,
            "removed_share": round(self.removed_share, 3),
            "recited": self.recited,
            "attributed": self.attributed,
            "code_removed": self.code_removed,
            "unknown_apis": list(self.unknown_apis),
            "leaked_markup": self.leaked_markup,
            "links_removed": self.links_removed,
            "requested_removed": self.requested_removed,
            "echoes_removed": self.echoes_removed,
            "repeats_removed": self.repeats_removed,
            "debris_removed": self.debris_removed,
            "assumption": self.assumption,
            "release": self.release,
        }


def rule_lines(instructions: str) -> list[set[str]]:
    """Content words of each rule line of a signature's instructions (what an echo would repeat)."""
    return [w for w in (content_words(line) for line in instructions.splitlines()) if len(w) >= 4]


def strip_markup(text: str, rules: Sequence[set[str]] = ()) -> tuple[str, bool]:
    """(text without adapter markers, field lines and echoed rule lines; whether any was there)."""
    leaked = False
    cut = re.search(r"\[\[\s*##\s*completed\s*##\s*\]\]", text)
    if cut:
        text, leaked = text[: cut.start()], True
    kept: list[str] = []
    skipping = False  # inside a leaked non-answer field ([[ ## cited ## ]] ...)
    for line in text.split("\n"):
        mark = _ADAPTER_MARK.search(line)
        if mark:
            leaked = True
            skipping = mark.group(1).lower() != "answer"
            line = _ADAPTER_MARK.sub("", line)
            if not line.strip():
                continue
        if skipping:
            continue
        if _FIELD_LINE.match(line):
            leaked = True
            continue
        if _ANSWER_PREFIX.match(line) and not kept:
            leaked, line = True, _ANSWER_PREFIX.sub("", line)
        words = content_words(line)
        if len(words) >= 4 and any(len(words & rule) >= 0.8 * len(words) for rule in rules):
            leaked = True
            continue
        kept.append(line)
    return "\n".join(kept).strip(), leaked


_MARKERS_ONLY = re.compile(r"^[\s\W]*(?:\[\d+\][\s\W]*)*$")  # "[1][2][3]", "…", "--", ""
_LIST_NUMBER = re.compile(r"^\s*\d+[.)]\s*(?:\[\d+\]\s*)*$")  # "10." left of a list item that went
_SIGN_OFF = re.compile(
    r"^\s*(?:best regards|kind regards|regards|cheers|thanks|thank you|hope (?:this|that|it) helps|good luck)\b[^.!?]{0,40}"
    r"[.!?]?\s*(?:\[\d+\]\s*)*$",
    re.IGNORECASE,
)
_LABEL = re.compile(r":\s*(?:\[\d+\]\s*)*:?\s*$")  # "Example code [1]:" introducing nothing that follows
_INTRODUCES = re.compile(
    r"\b(?:here'?s|here is|for example|an example|example code|the following|as follows|like this|below|"
    r"code snippet|this code|sample code)\b",
    re.IGNORECASE,
)


# an admonition's title as ingestion renders it ("Note: Technical Details", "Warning: Technical Details"), copied into
# the answer as a sentence of its own: it says nothing (18 times in the committed dev and train runs, always these)
_ADMONITION_TITLE = re.compile(
    r"^(?:Note|Tip|Info|Warning|Danger|Check|Details)\s*:\s*(?:[A-Z][\w-]*\s+){0,3}[A-Z][\w-]*\s*(?:\[\d+\]\s*)*\.?$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?\]])\s+(?=[A-Z])")
# a code block holding nothing but an ellipsis: the model copying a passage whose code the prompt cut ("```python … ```")
_EMPTY_CODE = re.compile(r"[ \t]*```[\w+-]*[ \t]*\n?[ \t]*(?:…|\.\.\.)?[ \t]*\n?[ \t]*```")


# the prompt's cut marker ("…", where a passage was shortened) copied to the start of an answer's line, or twice in a
# row ("disk… … But"): 92 of 6,412 committed train and dev answers open a line with one (session 31's newcomer
# check: an answer began "… If you are coming from ...")
_LEADING_ELLIPSIS = re.compile(r"^([ \t]*(?:[-*][ \t]+)?)(?:…|\.\.\.)[ \t]+(?=\S)", re.MULTILINE)
_DOUBLE_ELLIPSIS = re.compile(r"…(?:[ \t]*…)+")


def _tidy_ellipses(text: str) -> str:
    """Prose without a cut marker opening a line and with runs of them said once; code blocks as they are."""
    return map_prose(text, lambda prose: _DOUBLE_ELLIPSIS.sub("…", _LEADING_ELLIPSIS.sub(r"\1", prose)))


def tidy(text: str) -> tuple[str, int]:
    """``text`` without the debris a removal or a cut leaves: code blocks holding only an ellipsis, lines of bare
    markers or an ellipsis anywhere, and at the end of the answer a label that introduces nothing ("Example code
    [1]:"), a lone list number, or a sign-off ("Best Regards [1]") copied from a forum post. Returns the text and
    how many lines went."""
    text, removed = _EMPTY_CODE.subn("", text)
    text = _tidy_ellipses(text)
    text, titles = _drop_admonition_titles(text)
    text, loops = collapse_repeats(text)
    removed += titles + loops
    lines = text.split("\n")
    kept: list[str] = []
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and line.strip() and _MARKERS_ONLY.match(line) and not line.lstrip().startswith("```"):
            others = "\n".join(lines[:i] + lines[i + 1 :])
            # a citation cited nowhere else stays where it is, unless there is nothing else to cite
            if set(MARKER.findall(line)) <= set(MARKER.findall(others)) or not re.search(r"[A-Za-z]", others):
                removed += 1
                continue
        kept.append(line)
    while kept:
        last = kept[-1].strip()
        if not last:
            kept.pop()
            continue
        if last.endswith("```"):
            break
        if _LIST_NUMBER.match(last) or _SIGN_OFF.match(last):
            kept.pop()
            removed += 1
            continue
        sentences = [p for p in re.split(r"(?<=[.!?])\s+(?=\S)", last) if p.strip()]
        if _LABEL.search(last) and _INTRODUCES.search(sentences[-1]):  # "... [1]. Here's an example [2]:"
            rest = " ".join(sentences[:-1]).strip()
            if not rest and not any(line.strip() for line in kept[:-1]):
                break  # the label is all the answer says: leave it (an empty answer would read as a decline)
            removed += 1
            if rest:
                # the label's citations stay with the sentence before it
                missing = [n for n in MARKER.findall(sentences[-1]) if n not in MARKER.findall(rest)]
                if missing:
                    head, _, tail = rest.rpartition(sentences[-2]) if len(sentences) > 1 else ("", "", "")
                    last = _with_markers(sentences[-2], [int(n) for n in MARKER.findall(sentences[-2]) + missing])
                    rest = f"{head}{last}{tail}".strip()
                kept[-1] = rest
                break
            kept.pop()
            continue
        break
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), removed


_CLAUSE_END = re.compile(r"(?<=[;.,])\s+")
REPEAT_RUN = 3  # a clause said this many times in a row is a loop, not emphasis


def _clause_key(clause: str) -> str:
    return " ".join(MARKER.sub("", clause).lower().strip(" ;.,").split())


def collapse_repeats(text: str) -> tuple[str, int]:
    """``text`` with a prose clause that a model repeated ``REPEAT_RUN`` or more times in a row ("the docs don't say
    X; the docs don't say X; ..." to ``max_tokens``) said once, keeping every citation marker of the copies; code
    blocks are left alone. Returns the text and how many copies went (19 of the 4,798 answers of the committed dev
    and train runs had such a loop, session 27)."""
    out: list[str] = []
    fence, removed = False, 0
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence or line.lstrip().startswith("```"):
            out.append(line)
            continue
        clauses = [c for c in _CLAUSE_END.split(line.strip()) if c]
        kept: list[str] = []
        i = 0
        while i < len(clauses):
            key, j = _clause_key(clauses[i]), i + 1
            while j < len(clauses) and len(key) >= 12 and _clause_key(clauses[j]) == key:
                j += 1
            if j - i >= REPEAT_RUN:
                end = j
                while end < len(clauses) and not _clause_key(clauses[end]):  # bare markers after the loop: its own
                    end += 1
                markers = list(dict.fromkeys(int(n) for c in clauses[i:end] for n in MARKER.findall(c)))
                bare = MARKER.sub("", clauses[i]).rstrip()
                stop = bare[-1] if bare[-1:] in (";", ",", ".", "!", "?") else ""
                if end == len(clauses):  # the loop ended the line: end it as a sentence
                    stop = stop if stop in (".", "!", "?") else "."
                bare = bare.rstrip(";,.!? ")
                kept.append(f"{bare} {''.join(f'[{n}]' for n in markers)}{stop}" if markers else f"{bare}{stop}")
                removed += j - i - 1
                j = end
            else:
                kept.extend(clauses[i:j])
            i = j
        out.append(line[: len(line) - len(line.lstrip())] + " ".join(kept) if len(kept) < len(clauses) else line)
    return "\n".join(out), removed


# the docs' boxes of technical detail ("/// note | Technical Details", "Starlette Technical Details"), by far the most
# common titled box (50 of the latest docs' 404 boxes): a title that only points at more detail
_DETAILS_TITLE = re.compile(r"^\w+\s*:\s*(?:[\w`@]+\s+){0,2}Technical Details\b", re.IGNORECASE)


def _drop_admonition_titles(text: str) -> tuple[str, int]:
    """``text`` without sentences that are only an admonition's title ("Note: Technical Details [2]"), outside code
    blocks. A title whose citation is cited nowhere else (before or after it) stays, so the source does not vanish
    with it; a "Technical Details" one then becomes "See also [2]." (the title alone read as a dangling heading:
    session 30's cookie answer ended "Note: Technical Details [3]")."""
    lines = text.split("\n")
    out: list[str] = []
    fence, removed = False, 0
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence or line.lstrip().startswith("```") or ":" not in line:
            out.append(line)
            continue
        sentences = _SENTENCE_END.split(line.strip())
        keep: list[str] = []
        for j, sentence in enumerate(sentences):
            if _ADMONITION_TITLE.match(sentence):
                rest = "\n".join([*out, *keep, *sentences[j + 1 :], *lines[i + 1 :]])
                own = [n for n in dict.fromkeys(MARKER.findall(sentence)) if n not in MARKER.findall(rest)]
                if not own:
                    removed += 1
                    continue
                if _DETAILS_TITLE.match(sentence):
                    removed += 1
                    keep.append("See also " + "".join(f"[{n}]" for n in own) + ".")
                    continue
            keep.append(sentence)
        if keep == sentences:
            out.append(line)
        elif keep:
            out.append(line[: len(line) - len(line.lstrip())] + " ".join(keep))
    return "\n".join(out), removed


def unknown_in_code(code: str, vocab: ApiVocabulary, shown: str) -> list[str]:
    """FastAPI names in ``code`` that neither the shown passages nor the docs' vocabulary have."""

    def known(name: str) -> bool:
        return name in shown or vocab.knows_name(name)

    out: list[str] = []
    for call in calls(code):
        if vocab.knows_callable(call.callee):
            out.extend(
                f"{call.callee}({kw}=)"
                for kw in call.kwargs
                if not vocab.knows_kwarg(call.callee, kw) and not known(kw)
            )
    for m in ATTRIBUTE_REF.finditer(code):
        obj, attr = m.group(1), m.group(2)
        # judged on its object: `cache` is a word of the docs' code, `app.cache` is not an API
        if obj in RECEIVERS and not (m.group(0) in shown or vocab.knows_member(obj, attr) or exists(obj, attr)):
            out.append(m.group(0))
    for m in _IMPORT.finditer(code):
        out.extend(f"{m.group(1)}.{n}" for n in IDENT.findall(m.group(2)) if n != "import" and not known(n))
    return list(dict.fromkeys(out))


def _pieces(prose: str) -> list[list[str]]:
    """[sentence, separator] pairs of a prose segment; markers standing alone join the sentence before."""
    parts = PIECES.split(prose)
    pairs: list[list[str]] = []
    for i in range(0, len(parts), 2):
        sentence, sep = parts[i], parts[i + 1] if i + 1 < len(parts) else ""
        if pairs and _ONLY_MARKERS.match(sentence) and sentence.strip():
            pairs[-1][0] = pairs[-1][0].rstrip() + " " + sentence.strip()
            pairs[-1][1] = sep
        else:
            pairs.append([sentence, sep])
    return pairs


def _with_markers(sentence: str, numbers: Sequence[int]) -> str:
    bare = MARKER.sub("", sentence).rstrip()
    tail = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
    m = re.search(r"[.!?:]$", bare)
    return f"{bare[:-1].rstrip()} {tail}{bare[-1]}" if m else f"{bare} {tail}"


def verify_answer(
    text: str,
    shown: Sequence[str],
    vocab: ApiVocabulary | None = None,
    *,
    mode: Mode = "remove",
    threshold: float = LEXICAL_SUPPORT_MIN,
    rules: Sequence[set[str]] = (),
    urls: Sequence[str] = (),
    question: str = "",
) -> Verification:
    """``text``'s markers number ``shown`` (1-based). See the module docstring for what is checked. Names the
    ``question`` uses (the user's own ``get_db``) may be named as methods and functions without the docs."""
    clean, leaked = strip_markup(text, rules)
    everything = "\n".join(shown)
    clean, links = drop_foreign_links(clean, everything, urls)
    if mode == "off":
        return Verification(text=clean, leaked_markup=leaked, links_removed=links)
    here = names_at_hand(everything, question, text)
    counts = {"sentences": 0, "removed": 0, "recited": 0, "attributed": 0, "code_removed": 0}
    unknown: list[str] = []
    out: list[str] = []
    seen_code: set[str] = set()
    for segment in FENCE.split(clean):
        if segment.startswith("```"):
            key = " ".join(segment.split())
            if key in seen_code:  # a looping model repeats its example: once is enough
                continue
            seen_code.add(key)
            bad = unknown_in_code(segment, vocab, everything) if vocab is not None else []
            foreign = vocab.foreign_language(segment) if vocab is not None else None
            if foreign is not None:  # not from the docs, whatever names it uses
                bad = [f"code in {foreign}", *bad]
            if bad:
                unknown.extend(bad)
                counts["code_removed"] += 1
                if mode == "mark":
                    out.append(segment.rstrip("`").rstrip() + f"\n# not in the docs: {', '.join(bad)}\n```")
                continue
            out.append(segment)
            continue
        for sentence, sep in _pieces(segment):
            kept = _check_sentence(sentence, shown, vocab, everything, here, threshold, mode, counts, unknown)
            if kept is not None:
                out.append(kept + sep)
            elif sep and "\n" in sep and out and not out[-1].endswith("\n"):
                out.append("\n")
    result, debris = tidy(re.sub(r"\n{3,}", "\n\n", "".join(out)).strip())
    return Verification(
        text=result,
        sentences=counts["sentences"],
        removed=counts["removed"],
        recited=counts["recited"],
        attributed=counts["attributed"],
        code_removed=counts["code_removed"],
        unknown_apis=tuple(dict.fromkeys(unknown)),
        leaked_markup=leaked,
        links_removed=links,
        debris_removed=debris,
    )


def _page(url: str) -> str:
    """A URL's page: no scheme, no fragment or query, no trailing slash, lower case."""
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.strip().lower())
    return re.split(r"[#?]", url, maxsplit=1)[0].rstrip("/")


def drop_foreign_links(text: str, shown: str, urls: Sequence[str] = ()) -> tuple[str, int]:
    """``text`` with every prose URL removed that neither ``shown`` (the passages' text) holds nor names a page
    of ``urls`` (the passages' own addresses); a markdown link keeps its words. Returns how many went. Code
    blocks are left as they are."""
    known = shown.lower()
    pages = {_page(u) for u in urls}
    removed = 0

    def allowed(url: str) -> bool:
        url = url.rstrip(".,;:!?")
        return bool(_LOOPBACK.match(url)) or url.lower().rstrip("/") in known or _page(url) in pages

    def md(m: re.Match[str]) -> str:
        nonlocal removed
        if allowed(m.group(2)):
            return m.group(0)
        removed += 1
        return m.group(1)

    def bare(m: re.Match[str]) -> str:
        nonlocal removed
        url = m.group(0)
        core = url.rstrip(".,;:!?")
        if allowed(core):
            return url
        removed += 1
        return LINK_REMOVED + url[len(core) :]

    text = map_prose(text, lambda prose: _BARE_URL.sub(bare, _MD_LINK.sub(md, prose)))
    return text, removed


# what a method, attribute or function claim may name without any source: Python's keywords and builtins ("an
# `async` function", "the `open` function") and HTTP's methods ("the `PUT` method")
_ALWAYS = (
    frozenset(keyword.kwlist)
    | frozenset(n for n in dir(builtins) if not n.startswith("_"))
    | {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"}
)
_CODE_LIKE = re.compile(r"\b[A-Za-z_]\w*(?:_\w*|[a-z][A-Z]\w*|(?=\())")  # snake_case, camelCase, called()


def _code_names(question: str) -> frozenset[str]:
    """The names a question writes as code: in backticks or fences, snake_case, camelCase, or called. "save it to
    disk" names no method; "my `save_upload()`" does."""
    return frozenset(IDENT.findall(" ".join(code_parts(question)))) | frozenset(_CODE_LIKE.findall(question))


def names_at_hand(shown: str, question: str, answer: str) -> frozenset[str]:
    """What a method or function claim may name without the docs' vocabulary: the names the shown passages' code
    has, the question writes as code, and the answer's own code defines (it may explain them)."""
    return (
        frozenset(IDENT.findall(" ".join(code_parts(shown))))
        | _code_names(question)
        | frozenset(DEFINED.findall(" ".join(code_parts(answer))))
    )


def _unknown_members(sentence: str, vocab: ApiVocabulary, here: frozenset[str]) -> list[str]:
    """Names the sentence presents as a method, attribute or function ("the file object's `save` method") that
    are in neither the code of the shown passages, the question nor the answer's own definitions, are no public
    member of FastAPI's classes, and are not defined or imported by the docs' code (``get_current_user``,
    ``create_engine``). Reading ``save`` off another object somewhere in
    the docs (``db_user.save()``) does not make it an upload's method."""
    out = []
    for m in _MEMBER_CLAIM.finditer(sentence):
        name, kind = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if (name.startswith("__") and name.endswith("__")) or name in _ALWAYS:  # Python's and HTTP's own
            continue
        if not (name in here or public_member(name) or vocab.defines(name) or vocab.exported_anywhere(name)):
            out.append(f"{name} ({kind.lower()})")
    return out


def _check_sentence(
    sentence: str,
    shown: Sequence[str],
    vocab: ApiVocabulary | None,
    everything: str,
    here: frozenset[str],
    threshold: float,
    mode: Mode,
    counts: dict[str, int],
    unknown: list[str],
) -> str | None:
    """The sentence as it goes out (markers fixed), or None when removed."""
    bare = MARKER.sub("", sentence).strip()
    if not content_words(bare):
        return sentence if bare or not MARKER.search(sentence) else None  # a stray marker line goes
    counts["sentences"] += 1
    cited = [int(n) for n in dict.fromkeys(MARKER.findall(sentence)) if 1 <= int(n) <= len(shown)]
    support = [lexical_support(bare, passage) for passage in shown]
    bad_apis = []
    if vocab is not None:
        for span in _INLINE.findall(bare):
            bad_apis.extend(unknown_in_code(span, vocab, everything))
            bad_apis.extend(
                n
                for n in IDENT.findall(span)
                if n[0].isupper() and len(n) > 3 and not (n in everything or vocab.knows(n) or vocab.mentions(n))
            )
        for m in _CLAIMED.finditer(bare):  # "FastAPI provides `Settings`": a docs example's class is not FastAPI's
            name = m.group(1)
            if not (vocab.exported(name) or vocab.knows_attribute(name)):
                bad_apis.append(f"fastapi.{name}")
        bad_apis.extend(_unknown_members(bare, vocab, here))
    if bad_apis:
        unknown.extend(bad_apis)
    together = lexical_support(bare, "\n".join(shown[n - 1] for n in cited)) if cited else 0.0
    best = max(range(len(shown)), key=lambda i: support[i]) + 1 if shown else 0
    if bad_apis or not shown or max(together, support[best - 1]) < threshold:
        counts["removed"] += 1
        return _with_markers(sentence, cited).rstrip() + UNVERIFIED if mode == "mark" else None
    if together >= threshold:  # its cited passages together support it: keep those that contribute
        useful = [n for n in cited if support[n - 1] >= threshold / 2]
        return sentence if len(useful) == len(cited) else _with_markers(sentence, useful or cited)
    if cited:
        counts["recited"] += 1
    else:
        counts["attributed"] += 1
    return _with_markers(sentence, [best])
