"""Pure rendering of answers for people: terminal text and JSON.

(Telegram HTML lives in ``bot/telegram_render.py``.) Nothing here does I/O.
"""

from __future__ import annotations

import textwrap
from typing import Any

from index import Answer, DocInfo, Hit

EXCERPT_CHARS = 300


def citation(doc: DocInfo, page: int | None = None) -> str:
    """ "Title — Publisher, date, p. 3" with whatever of these the document has."""
    parts = [doc.title]
    tail = ", ".join(x for x in (doc.source, doc.date) if x)
    if tail:
        parts.append(tail)
    text = " — ".join(parts)
    if page is not None:
        text += f", p. {page}"
    return text


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def answer_text(answer: Answer, width: int = 88) -> str:
    """The answer as plain text for a terminal."""
    lines: list[str] = []
    if answer.quote is not None:
        n = answer.quote.hit_rank + 1
        quoted = textwrap.fill(f"“{' '.join(answer.quote.text.split())}” [{n}]", width)
        lines += [quoted, ""]
        lines.append("Sources:")
    else:
        lines.append("Not found in the sources" + (f": {answer.reason}." if answer.reason else "."))
        if answer.hits:
            lines += ["", "Closest passages (they do not answer the question):"]
    for i, hit in enumerate(answer.hits, start=1):
        lines.append(_source_line(i, hit))
        lines.append(textwrap.indent(textwrap.fill(excerpt(hit.chunk.text), width - 4), "    "))
    return "\n".join(lines)


def _source_line(i: int, hit: Hit) -> str:
    line = f"[{i}] {citation(hit.doc, hit.chunk.page)}"
    if hit.doc.url:
        line += f" <{hit.doc.url}>"
    return f"{line}  (id: {hit.doc.id})"


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer in the documented JSON shape of ``citebot ask --json``."""
    quote = None
    if answer.quote is not None:
        q = answer.quote
        quote = {"quote": q.text, "doc_id": q.doc_id, "start": q.start, "end": q.end}
    return {
        "question": answer.question,
        "answer": quote,
        "passages": [
            {
                "doc_id": h.doc.id,
                "title": h.doc.title,
                "source": h.doc.source,
                "url": h.doc.url,
                "date": h.doc.date,
                "text": h.chunk.text,
                "start": h.chunk.start,
                "end": h.chunk.end,
                "page": h.chunk.page,
                "score": round(h.score, 6),
            }
            for h in answer.hits
        ],
    }


def sources_text(docs: list[DocInfo]) -> str:
    """The documents of an index, one block each."""
    lines = [f"{len(docs)} document(s):"]
    for doc in docs:
        lines.append(f"- {doc.id}: {citation(doc)}")
        extra = [
            f"{k}: {v}"
            for k, v in (("author", doc.author), ("url", doc.url), ("file", doc.path))
            if v
        ]
        if extra:
            lines.append("    " + "; ".join(extra))
    return "\n".join(lines)
