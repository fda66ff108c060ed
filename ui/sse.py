"""Server-Sent Events parsing (pure): lines in, ``(event, data)`` pairs out.

The API streams ``meta``, ``token``..., ``citations``, ``final`` (or ``error``); comment lines (``: ping``)
and unknown fields are ignored, multi-line ``data`` is joined with newlines as the spec says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def iter_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    event = "message"
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)
