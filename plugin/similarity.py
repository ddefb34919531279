"""How alike two replies are: similar reviews must not get copies of one reply."""
from __future__ import annotations

import re
from itertools import combinations


def shingles(text: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return frozenset(tuple(words[i:i + size]) for i in range(max(len(words) - size + 1, 1)))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of word 3-grams: 1.0 for copies, near 0 for unrelated texts."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def near_duplicates(texts: list[str], threshold: float = 0.9) -> list[tuple[int, int, float]]:
    """Index pairs whose similarity reaches the threshold."""
    sets = [shingles(t) for t in texts]
    found = []
    for i, j in combinations(range(len(texts)), 2):
        union = len(sets[i] | sets[j])
        score = len(sets[i] & sets[j]) / union if union else 1.0
        if score >= threshold:
            found.append((i, j, round(score, 3)))
    return found
