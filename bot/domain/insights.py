"""Field insights: what a customer or prospect said, passed from sales to marketing, with #tags."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TEXT = 2000
MAX_TAGS = 5
_TAG = re.compile(r"(?<![\w&])#([A-Za-z][\w-]{1,30})")


@dataclass(frozen=True)
class InsightText:
    text: str
    tags: tuple[str, ...]


def parse_insight(raw: str, extra_tags: str = "") -> InsightText | None:
    """'They balk at the price #pricing' → text and ('pricing',). Tags are lower-case, unique, at
    most five; None for nothing to say."""
    text = raw.strip()[:MAX_TEXT]
    if not text:
        return None
    tags: list[str] = []
    for tag in _TAG.findall(f"{text} {extra_tags}") + [
        t.strip().lstrip("#") for t in extra_tags.replace(",", " ").split() if t.strip().lstrip("#")
    ]:
        tag = tag.lower()
        if tag not in tags and re.fullmatch(r"[a-z][\w-]{1,30}", tag):
            tags.append(tag)
    return InsightText(text=text, tags=tuple(tags[:MAX_TAGS]))


def top_tags(tag_lists: Iterable[Iterable[str]], limit: int = 5) -> list[tuple[str, int]]:
    """The most used tags, most first (ties by name)."""
    counts = Counter(tag for tags in tag_lists for tag in set(tags))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
