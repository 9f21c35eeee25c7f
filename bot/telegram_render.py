"""Pure rendering for Telegram: answers, passages and documents as HTML messages.

Every message is built from *blocks*: small HTML fragments whose tags are balanced and whose
text was escaped after it was trimmed, so a block is always safe on its own. ``pack`` joins
blocks into messages of at most ``MESSAGE_LIMIT`` and only ever cuts between blocks, never
inside a tag or an HTML entity. Lengths are counted in UTF-16 code units of the HTML source,
as Telegram counts them, which is never less than the length Telegram checks after parsing.
Nothing here does I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from index import Answer, DocInfo, Hit

from .render import citation, excerpt

MESSAGE_LIMIT = 4096  # Telegram's maximum length of a message's text
INLINE_TITLE_CHARS = 64
INLINE_DESCRIPTION_CHARS = 200
QUOTE_CHARS = 1500
PASSAGE_CHARS = 220
OPENING_CHARS = 1200
PARAGRAPH_CHARS = 3500  # a "paragraph" longer than this (a file without line breaks) is cut
URL_CHARS = 1000  # longer URLs are not linked: they would crowd out the text (and the limit)
NOT_FOUND = "I couldn't find that in the sources."

_TAG = re.compile(r"<[^>]*>")


def tg_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` for Telegram HTML."""
    return html.escape(text, quote=False)


def trim(text: str, limit: int) -> str:
    """Cut plain ``text`` at a word boundary so that, escaped, it is at most ``limit`` long.

    Args:
        text: Plain (unescaped) text.
        limit: Budget for the *escaped* text, in UTF-16 code units.

    Returns:
        ``text`` itself when it fits, else a prefix ending in "…".
    """
    if tg_len(esc(text)) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose escaped form, plus "…", fits
        mid = (lo + hi + 1) // 2
        if tg_len(esc(text[:mid])) + 1 <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    if " " in cut[len(cut) // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split plain ``text`` into pieces whose escaped form is at most ``limit`` long.

    Cuts fall on paragraph breaks, else on spaces, else anywhere (a 10,000-letter word).
    """
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if tg_len(esc(rest)) <= limit:
            pieces.append(rest)
            break
        lo, hi = 1, len(rest)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if tg_len(esc(rest[:mid])) <= limit:
                lo = mid
            else:
                hi = mid - 1
        head = rest[:lo]
        for sep in ("\n\n", "\n", " "):
            at = head.rfind(sep)
            if at > lo // 2:
                head = head[:at]
                break
        pieces.append(head.strip() or head)
        rest = rest[len(head) :].strip()
    return pieces


def pack(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks (separated by blank lines) into as few messages of ≤ ``limit`` as possible.

    A block longer than ``limit`` on its own is a programming error (blocks are trimmed when
    they are made) and raises ``ValueError``, so a bad cut can never reach Telegram.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        if tg_len(block) > limit:
            raise ValueError(f"a block of {tg_len(block)} characters exceeds {limit}")
        joined = f"{current}\n\n{block}" if current else block
        if tg_len(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def to_plain(html_text: str) -> str:
    """The text of our HTML without tags or entities (the fallback when HTML is refused)."""
    return html.unescape(_TAG.sub("", html_text))


def _link(url: str | None, label: str) -> str:
    if not url or not url.startswith(("http://", "https://")) or len(url) > URL_CHARS:
        return ""
    return f'<a href="{html.escape(url, quote=True)}">{esc(label)}</a>'


def source_line(n: int, hit: Hit) -> str:
    """``[n] Title — Publisher, date`` with a link, or the ``/source`` command to read it."""
    cite = esc(trim(citation(hit.doc, hit.chunk.page), 600))
    where = _link(hit.doc.url, "link") or f"/source {esc(trim(hit.doc.id, 200))}"
    return f"[{n}] <b>{cite}</b> · {where}"


def passage_block(n: int, hit: Hit, chars: int = PASSAGE_CHARS) -> str:
    """A numbered source line followed by an excerpt of the passage."""
    return f"{source_line(n, hit)}\n<i>{esc(excerpt(hit.chunk.text, chars))}</i>"


def answer_blocks(answer: Answer) -> list[str]:
    """The reply to a question: the quote marked ``[n]`` and the numbered sources, or a refusal."""
    blocks: list[str] = []
    if answer.quote is not None:
        n = answer.quote.hit_rank + 1
        quote = trim(" ".join(answer.quote.text.split()), QUOTE_CHARS)
        blocks.append(f"<blockquote>{esc(quote)} [{n}]</blockquote>")
        blocks.append("<b>Sources</b>")
    else:
        blocks.append(esc(NOT_FOUND))
        if answer.hits:
            blocks.append("<b>Closest passages</b> (they may not answer your question):")
    blocks += [passage_block(i, hit) for i, hit in enumerate(answer.hits, start=1)]
    return blocks


def answer_messages(answer: Answer) -> list[str]:
    """``answer_blocks`` packed into Telegram messages (one, unless the passages are long)."""
    return pack(answer_blocks(answer))


def more_messages(hits: Sequence[Hit], first_number: int) -> list[str]:
    """Further passages, numbered on from ``first_number``."""
    if not hits:
        return ["No more passages."]
    return pack(passage_block(first_number + i, hit) for i, hit in enumerate(hits))


def paragraph_around(text: str, start: int, end: int, limit: int = PARAGRAPH_CHARS) -> str:
    """The paragraph (between line breaks) of ``text`` holding ``text[start:end]``.

    A paragraph longer than ``limit`` is cut to a window of about ``limit`` characters
    centred on the quote, at spaces, with "…" where it was cut; the quote itself is never cut.
    """
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    if hi - lo <= limit:
        return text[lo:hi].strip()
    room = max(0, limit - (end - start)) // 2
    a, b = max(lo, start - room), min(hi, end + room)
    if a > lo:
        space = text.find(" ", a, start)
        a = space + 1 if space >= 0 else start
    if b < hi:
        space = text.rfind(" ", end, b)
        b = space if space >= 0 else end
    return ("…" if a > lo else "") + text[a:b].strip() + ("…" if b < hi else "")


def paragraph_messages(doc: DocInfo, paragraph: str) -> list[str]:
    """The full paragraph around a quote, with its citation (split if very long)."""
    head = f"<b>{esc(trim(citation(doc), 600))}</b>"
    link = _link(doc.url, "link")
    if link:
        head += f" · {link}"
    return pack([head, *(esc(piece) for piece in split_text(paragraph, MESSAGE_LIMIT - 10))])


def start_message(example: str | None) -> str:
    """What the bot is and how to ask, with an example question."""
    text = (
        "I answer questions from a fixed set of source documents, quoting them word for word "
        "and citing where each quote comes from. If the documents don't say, I tell you so."
        "\n\nJust send me a question."
    )
    if example:
        text += f" For example:\n<code>{esc(trim(example, 300))}</code>"
    return text + "\n\n/help lists the commands."


HELP = (
    "<b>How to ask</b>\n"
    "In a private chat, send any question. In a group, use /ask, mention me or reply to me.\n"
    "In any chat, type my @username and a question to share a quote.\n\n"
    "<b>Commands</b>\n"
    "/ask QUESTION: answer a question\n"
    "/sources: the documents I know\n"
    "/source ID: a document's details and opening\n"
    "/help: this message\n\n"
    "Every answer is a verbatim quote marked [1] with its source. The buttons under it show "
    "more passages or the full paragraph, and 👍/👎 tell us whether it helped."
)


def sources_page(docs: Sequence[DocInfo], page: int, per_page: int) -> tuple[str, int]:
    """One page of the document list and the number of pages.

    Args:
        docs: All documents.
        page: Zero-based page number (clamped to the valid range).
        per_page: Documents per page.
    """
    pages = max(1, -(-len(docs) // per_page))
    page = min(max(page, 0), pages - 1)
    lines = [
        f"<b>{len(docs)} document(s)</b>" + (f", page {page + 1}/{pages}" if pages > 1 else "")
    ]
    for doc in docs[page * per_page : (page + 1) * per_page]:
        line = f"• <code>{esc(trim(doc.id, 120))}</code> {esc(trim(citation(doc), 200))}"
        link = _link(doc.url, "link")
        lines.append(f"{line} · {link}" if link else line)
    return "\n".join(lines), pages


def source_message(doc: DocInfo, opening: str) -> str:
    """A document's metadata and the opening of its text."""
    rows = [f"<b>{esc(trim(doc.title, 400))}</b>"]
    for label, value in (
        ("Publisher", doc.source),
        ("Date", doc.date),
        ("Author", doc.author),
        ("ID", doc.id),
    ):
        if value:
            rows.append(f"{label}: {esc(trim(value, 300))}")
    link = _link(doc.url, trim(doc.url or "", 500))
    if link:
        rows.append(f"Link: {link}")
    rows.append(f"\n<i>{esc(excerpt(opening, OPENING_CHARS))}</i>")
    return "\n".join(rows)


def inline_title(text: str) -> str:
    """A result card's title (plain text)."""
    return excerpt(text, INLINE_TITLE_CHARS)


def inline_description(hit: Hit) -> str:
    """A result card's description: the citation (plain text)."""
    return excerpt(citation(hit.doc, hit.chunk.page), INLINE_DESCRIPTION_CHARS)


def inline_card(quote: str, hit: Hit) -> str:
    """What an inline result posts: the quote and its source."""
    body = f"<blockquote>{esc(trim(' '.join(quote.split()), QUOTE_CHARS))}</blockquote>"
    cite = esc(trim(citation(hit.doc, hit.chunk.page), 600))
    link = _link(hit.doc.url, "link")
    return f"{body}\n— <b>{cite}</b>" + (f" · {link}" if link else "")
