"""Page-furniture removal: keep the article, drop what the page wrapped around it.

Scraped pages carry text that is not the article: "MOST VIEWED" and related-story blocks
(teasers of *other* stories), comment forms, author boxes, share buttons, logo alt texts,
repeated headlines and stray counters. Citing any of it as if the article said it would be a
wrong citation, so it is removed before chunking. The rules are line based and conservative:
each one names a pattern that is never article prose.
"""

from __future__ import annotations

import re

# A line that starts a block running to the end of the page: sidebars and footers.
_TAIL_MARKERS = re.compile(
    r"^(most (viewed|read|popular|shared)|related( (stories|articles|posts|news|content|"
    r"reading|coverage))?|read (more|next|also)|you (may|might) also like|recommended"
    r"( for you| stories)?|more (from|stories|news)\b.*|trending( now| stories)?|"
    r"popular (stories|posts|articles)|leave a (reply|comment)|post a comment|"
    r"\d+ comments?|comments?|share this( article| story| post)?|about the author|"
    r"view all posts by .+|sign up for our newsletter|subscribe to our newsletter)\s*:?$",
    re.IGNORECASE,
)
# Single lines that are furniture wherever they appear.
_DROP_LINE = re.compile(
    r"^(logo of .+|view all posts by .+|your email address will not be published.*|"
    r"required fields are marked.*|share this:?|like this:?|loading\.\.\.|"
    r"click to share on .+|posted in .+|tagged:? .+|advertisement|skip to (main )?content|"
    r"\d+\s+(comments?|shares?|views?|likes?)|"
    r"[\d\W_]{1,8})$",  # a stray counter or separator: "348", "***", "—"
    re.IGNORECASE,
)
_BLANKS = re.compile(r"\n{3,}")
_SENTENCE_END = (".", "!", "?", "”", '"', "’", ":", ";")


def clean_text(raw: str) -> str:
    """Return the article text of ``raw`` with page furniture removed.

    Args:
        raw: Text as loaded from a file (any newline convention).

    Returns:
        The cleaned text: furniture lines removed, trailing spaces stripped, at most one blank
        line between paragraphs. Everything kept is verbatim, so quotes stay exact.
    """
    lines = [line.rstrip() for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = _cut_tail(lines)
    kept: list[str] = []
    seen_short: set[str] = set()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            kept.append("")
            continue
        if _DROP_LINE.match(stripped):
            continue
        if len(stripped) < 120:
            # Repeated headlines and kickers: keep the first occurrence only.
            if stripped in seen_short:
                continue
            seen_short.add(stripped)
        if _is_prefix_of_next(stripped, lines, i):
            continue  # an image caption repeated in full just below
        kept.append(line)
    text = "\n".join(kept)
    return _BLANKS.sub("\n\n", text).strip()


def _cut_tail(lines: list[str]) -> list[str]:
    """Drop a sidebar or footer block and everything after it.

    A marker in the first third of the page is more likely a navigation line than the start
    of the page's tail, so there only the marker line itself goes.
    """
    total = sum(len(line) for line in lines) or 1
    seen = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped and _TAIL_MARKERS.match(stripped) and seen > total / 3:
            return lines[: _author_box_start(lines, i)]
        seen += len(line)
    return [line for line in lines if not _TAIL_MARKERS.match(line.strip())]


def _author_box_start(lines: list[str], cut: int) -> int:
    """Extend a cut backwards over an author box ("About X" / a one-line bio) above it."""
    start = cut
    steps = 0
    j = cut - 1
    while j >= 0 and steps < 3:
        stripped = lines[j].strip()
        if not stripped:
            j -= 1
            continue
        if len(stripped) > 100 or stripped.endswith(_SENTENCE_END):
            break
        steps += 1
        if stripped.lower().startswith("about "):
            start = j
        j -= 1
    return start


def _is_prefix_of_next(stripped: str, lines: list[str], i: int) -> bool:
    for nxt in lines[i + 1 : i + 3]:
        candidate = nxt.strip()
        if candidate:
            return candidate != stripped and candidate.startswith(stripped)
    return False
