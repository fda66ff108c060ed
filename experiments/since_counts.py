"""How often the version notes of programs/since.py would speak, over every section of the store.

    python -m experiments.since_counts      # seconds; needs the ingested store (make ingest)

For each older version: how many of its sections get a since-note, by kind of change (none, unchanged with other
names in the examples, reworded, deprecated, gone from the page, page gone or moved); and how many sections of the
latest docs get an other-way note for a user on that version. The numbers docs/versions.md quotes.
"""

from __future__ import annotations

import sys
from collections import Counter

from fda.settings import Settings
from index.ingest.store import open_store
from programs.since import LatestDocs


def main() -> None:
    settings = Settings()
    latest = LatestDocs.from_store(settings.db_path)
    with open_store(settings.db_path, read_only=True) as con:
        rows = con.execute("SELECT version, url FROM sections WHERE kind <> 'release'").fetchall()
    versions = sorted({v for v, _ in rows} - {latest.latest})
    for version in versions:
        notes = [latest.note(version, url) for v, url in rows if v == version]
        kinds = Counter(n.change if n else "no note" for n in notes)
        moved = sum(1 for n in notes if n is not None and n.change == "page_gone" and n.url)
        before = sum(1 for v, url in rows if v == latest.latest and latest.before(version, url) is not None)
        sys.stdout.write(f"{version}: {len(notes)} sections; {dict(sorted(kinds.items()))}; page moved {moved}; "
                         f"latest sections with an other-way note {before}\n")  # fmt: skip


if __name__ == "__main__":
    main()
