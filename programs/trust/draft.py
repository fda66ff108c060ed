"""The stream's draft, released a sentence or a line at a time, through the checks that need no LM.

    draft = DraftFilter()
    draft.sources(passages)          # when the passages are known (before the LM's first token)
    for token in tokens:
        send(draft.feed(token))      # "" until a sentence or line is complete
    send(draft.flush())              # the rest, at the end

The ``token`` events of ``/v1/ask/stream`` are the model's words before verification; the ``final`` event carries
the verified answer. A client that shows tokens as they come would show, for the seconds until ``final``, a link
an injected instruction asked for or the adapter's field markers (docs/security.md). Here each complete sentence
goes out only after the checks of the final answer that need no LM: adapter markup stripped
(``verify.strip_markup``) and links the sources do not hold removed (``verify.drop_foreign_links``). Whether a
sentence is supported by the passage it cites is judged once, on the whole answer, in ``final``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fda.types import Passage
from programs.trust.verify import drop_foreign_links, strip_markup

# where a draft may be cut: after a sentence's end and its space, or after a line break
_BOUNDARY = re.compile(r"(?<=[.!?:])[ \t]+|\n")
# a model stuck in a loop: the same few characters 16 times or more in a row ("```python ```python ...", seen from
# the 1.5B until its token limit, session 21); the verified answer in ``final`` drops it
_RUNAWAY = re.compile(r"(.{3,40}?)\1{15,}", re.DOTALL)


class DraftFilter:
    def __init__(self, passages: Sequence[Passage] = ()) -> None:
        self._draft = ""  # every token so far
        self._sent = ""  # what went out: always a prefix of the checked draft
        self._cut = 0  # where the draft was last cut: the checks run again only when a sentence or line completes
        self._shown = ""
        self._urls: list[str] = []
        self._stuck = False  # the model looped: nothing more goes out before ``final``
        self.sources(passages)

    def sources(self, passages: Sequence[Passage]) -> None:
        """The passages the answer is written from: the links they hold (in text or as addresses) may stay."""
        self._shown = "\n".join(p.text for p in passages)
        self._urls = [p.url for p in passages]

    def _checked(self, text: str) -> str:
        clean, _ = strip_markup(text)
        clean, _ = drop_foreign_links(clean, self._shown, self._urls)
        return clean

    def _release(self, text: str) -> str:
        if self._stuck:
            return ""
        loop = _RUNAWAY.search(text)
        if loop:
            self._stuck = True
            text = text[: loop.start()]
        clean = self._checked(text)
        if not clean.startswith(self._sent):  # a check changed what already went out (markup found later): hold
            return ""
        new, self._sent = clean[len(self._sent) :], clean
        return new

    def feed(self, token: str) -> str:
        """The part of the draft that is complete and checked, not sent before ("" while a sentence is open)."""
        self._draft += token
        cut = None
        for m in _BOUNDARY.finditer(self._draft):
            cut = m.end()
        if cut is None or cut == self._cut:  # nothing completed since the last cut: nothing new could go out
            return ""
        self._cut = cut
        complete = self._draft[:cut]
        released = self._release(complete)
        gap = complete[len(complete.rstrip()) :]  # the checks trim the end; the next sentence needs the gap
        if released and gap and not released[-1].isspace():
            released += gap
            self._sent += gap
        return released

    def flush(self) -> str:
        """What is left at the end of the stream, checked."""
        return self._release(self._draft)
