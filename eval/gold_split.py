"""Assign v2 splits once: stratified by type x category, grouped so near-duplicates share a split, seeded.

    fda gold split --version v2          # assigns rows without a split; never moves an assigned row

Rows are grouped (``group``, else the id). Groups are ordered by stratum (type, then category; seeded
shuffle inside each stratum) and dealt along that order to whichever split is furthest below its share:
each stratum gets a contiguous slice of a globally balanced deal, so strata of one or two rows spread
over the splits instead of all landing in train. Already assigned rows keep their split (a sealed test
row never moves); a new row joining an assigned group takes that group's split.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from eval.gold import GOLD_DIR, V2_SPLITS, GoldQuestion, Split, load_all_rows, manifest, rewrite_rows

DEFAULT_SHARES: dict[str, float] = {"train": 0.40, "dev-select": 0.20, "dev-confirm": 0.15, "test": 0.25}


def plan_splits(rows: list[GoldQuestion], shares: dict[str, float], seed: int) -> dict[str, Split]:
    """id -> split for every row: assigned rows keep theirs, the rest are dealt as described above."""
    groups: dict[str, list[GoldQuestion]] = defaultdict(list)
    for row in rows:
        groups[row.dedupe_group].append(row)
    out: dict[str, Split] = {}
    counts: Counter[str] = Counter()
    pending: list[tuple[str, list[GoldQuestion]]] = []
    for name, members in groups.items():
        fixed = {r.assigned_split for r in members if r.assigned_split}
        if len(fixed) > 1:
            raise ValueError(f"group {name!r} already straddles splits {sorted(fixed)}")
        if fixed:
            split = fixed.pop()
            for r in members:
                out[r.id] = split
            counts[split] += len(members)
        else:
            pending.append((name, members))
    by_stratum: dict[str, list[tuple[str, list[GoldQuestion]]]] = defaultdict(list)
    for name, members in sorted(pending):
        by_stratum[members[0].strata].append((name, members))
    ordered: list[tuple[str, list[GoldQuestion]]] = []
    for stratum in sorted(by_stratum):
        chunk = by_stratum[stratum]
        random.Random(f"{seed}:{stratum}").shuffle(chunk)
        ordered += chunk
    total = len(rows)
    for _, members in ordered:
        done = sum(counts.values())
        split = max(V2_SPLITS, key=lambda s: (shares[s] * (done + len(members)) - counts[s], shares[s]))
        for r in members:
            out[r.id] = split
        counts[split] += len(members)
    assert sum(counts.values()) == total
    return out


def assign_splits(version: str, root: Path = GOLD_DIR, seed: int | None = None) -> Counter[str]:
    """Write the planned split into every row that has none (files rewritten in place, key order kept)."""
    meta = manifest(version, root)
    shares = {**DEFAULT_SHARES, **meta.get("shares", {})}
    plan = plan_splits(load_all_rows(version, root), shares, int(seed if seed is not None else meta.get("seed", 0)))
    changed: Counter[str] = Counter()

    def assign(record: dict[str, Any]) -> int:
        if record.get("split") is not None:
            return 0
        record["split"] = plan[record["id"]]
        changed[record["split"]] += 1
        return 1

    rewrite_rows(version, assign, root)
    return changed


def stratified_subset(rows: list[GoldQuestion], n: int, seed: int = 0) -> list[GoldQuestion]:
    """A seeded random subset of ``n`` rows with the split's mix of types (largest remainder) and, inside
    each type, categories taken round-robin; rows keep their file order. Never the first n."""
    if n >= len(rows):
        return list(rows)
    by_type: dict[str, list[GoldQuestion]] = defaultdict(list)
    for row in rows:
        by_type[row.type.value].append(row)
    quotas = {t: n * len(rs) / len(rows) for t, rs in by_type.items()}
    take = {t: int(q) for t, q in quotas.items()}
    for t in sorted(quotas, key=lambda t: (-(quotas[t] - take[t]), t))[: n - sum(take.values())]:
        take[t] += 1
    picked: set[str] = set()
    for t, members in sorted(by_type.items()):
        by_cat: dict[str, list[GoldQuestion]] = defaultdict(list)
        for row in members:
            by_cat[row.category.value].append(row)
        rng = random.Random(f"{seed}:{t}")
        queues = [rng.sample(by_cat[c], len(by_cat[c])) for c in sorted(by_cat)]
        rng.shuffle(queues)
        chosen: list[GoldQuestion] = []
        while len(chosen) < take[t]:
            for q in queues:
                if q and len(chosen) < take[t]:
                    chosen.append(q.pop())
        picked.update(r.id for r in chosen)
    return [r for r in rows if r.id in picked]


def join_groups(version: str, pairs: list[tuple[str, str, float]], root: Path = GOLD_DIR) -> int:
    """Give near-duplicate pairs one group (connected pairs join one group, named after an existing group
    of a member, else the first id), written into the rows; returns how many rows changed. Rows that
    already have a split keep their group: a pair across assigned splits is reported by validate."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    rows = {r.id: r for r in load_all_rows(version, root)}
    by_group: dict[str, list[str]] = defaultdict(list)
    for r in rows.values():
        if r.group:
            by_group[r.group].append(r.id)
    edges = [(a, b) for a, b, _ in pairs] + [(ids[0], other) for ids in by_group.values() for other in ids[1:]]
    for a, b in edges:
        parent[find(a)] = find(b)
    members: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        members[find(x)].append(x)
    name_of: dict[str, str] = {}
    for ids in members.values():
        if len(ids) < 2:
            continue
        named = sorted(g for i in ids if (g := rows[i].group))
        name = named[0] if named else sorted(ids)[0]
        for i in ids:
            if rows[i].assigned_split is None:
                name_of[i] = name

    def rename(record: dict[str, Any]) -> int:
        new = name_of.get(record["id"])
        if new is None or record.get("group") == new:
            return 0
        record["group"] = new
        return 1

    return rewrite_rows(version, rename, root)
