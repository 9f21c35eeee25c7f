"""The vocabulary of the system: documents, chunks, hits and answers.

Every seam between modules passes these frozen dataclasses, never loose dicts.
Offsets (``start``/``end``) are always character offsets into ``Document.text``,
the *cleaned* text of a document, so a quote can be located and verified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """A cleaned source document with its metadata.

    Attributes:
        id: Path relative to the corpus folder without extension (``reports/2024/x``),
            or the ``id`` field of a JSON-lines record.
        text: The cleaned main text; page furniture is already removed.
        title: Human title; falls back to the id when unknown.
        source: Publisher or outlet, when the document says so.
        url: Canonical link, when known.
        date: Publication date as written in the metadata (ISO ``YYYY-MM-DD`` preferred).
        author: Author, when known.
        pages: For paged formats (PDF): ``(offset, page_number)`` pairs, one per page, giving
            the offset in ``text`` where each page starts.
        path: The file the document came from, relative to the corpus folder.
    """

    id: str
    text: str
    title: str
    source: str | None = None
    url: str | None = None
    date: str | None = None
    author: str | None = None
    pages: tuple[tuple[int, int], ...] = ()
    path: str | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 of everything that ends up in the index for this document."""
        h = hashlib.sha256()
        for part in (self.text, self.title, self.source, self.url, self.date, self.author):
            h.update((part or "").encode("utf-8"))
            h.update(b"\x00")
        h.update(repr(self.pages).encode("ascii"))
        return h.hexdigest()

    def page_at(self, offset: int) -> int | None:
        """The page number that contains character ``offset``, or None when unpaged."""
        page = None
        for start, number in self.pages:
            if start > offset:
                break
            page = number
        return page


@dataclass(frozen=True, slots=True)
class DocInfo:
    """A document's metadata without its text, as kept in the index."""

    id: str
    title: str
    source: str | None = None
    url: str | None = None
    date: str | None = None
    author: str | None = None
    path: str | None = None
    length: int = 0
    content_hash: str = ""

    @classmethod
    def of(cls, doc: Document) -> DocInfo:
        return cls(
            id=doc.id,
            title=doc.title,
            source=doc.source,
            url=doc.url,
            date=doc.date,
            author=doc.author,
            path=doc.path,
            length=len(doc.text),
            content_hash=doc.content_hash,
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document: ``text == document.text[start:end]``."""

    doc_id: str
    start: int
    end: int
    text: str
    page: int | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage with its scores.

    Attributes:
        chunk: The passage.
        doc: Metadata of the passage's document.
        score: The fused relevance score used for ranking (higher is better).
        dense: Cosine similarity between question and passage.
        lexical: BM25 score of the passage for the question.
    """

    chunk: Chunk
    doc: DocInfo
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim span of a document that answers the question."""

    text: str
    doc_id: str
    start: int
    end: int
    hit_rank: int = 0  # index into Answer.hits of the passage the quote comes from


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to a question: a quote with its evidence, or a refusal.

    ``quote`` is None when the sources do not answer the question; ``hits`` are then the
    closest passages, offered as such, and ``reason`` says why nothing was quoted.
    """

    question: str
    quote: Quote | None
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    reason: str = ""

    @property
    def found(self) -> bool:
        return self.quote is not None
