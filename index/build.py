"""Building and updating an index from a corpus folder.

``build_index`` is incremental: a document whose content hash is unchanged keeps its passages
and vectors from the previous index, so only new or changed documents are embedded; documents
that disappeared from the corpus disappear from the index. The lexical and vector indexes
are then rebuilt from the full set of vectors, which is cheap next to embedding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .chunking import ChunkSettings, chunk_document
from .dense import build_dense
from .documents import DocInfo, Document
from .embedder import Embedder
from .errors import CitebotError
from .lexical import LexicalIndex
from .loaders import DEFAULT_MAX_BYTES, Skipped, load_corpus
from .store import (
    IndexContent,
    Manifest,
    StoredIndex,
    canonical_model,
    open_index,
    write_index,
    write_lock,
)


@dataclass(frozen=True, slots=True)
class BuildSettings:
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    passage_title: bool = True  # prefix each passage with its document title when embedding
    max_file_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the one-line summary."""

    documents: int
    chunks: int
    embedded_documents: int
    reused_documents: int
    removed_documents: int
    skipped: tuple[Skipped, ...]
    seconds: float
    index_path: Path

    def summary(self) -> str:
        skipped = ""
        if self.skipped:
            skipped = f", {len(self.skipped)} file(s) skipped"
        return (
            f"Indexed {self.documents} documents into {self.chunks} passages "
            f"({self.embedded_documents} embedded, {self.reused_documents} unchanged, "
            f"{self.removed_documents} removed{skipped}) in {self.seconds:.1f} s"
        )


class BuildProgress:
    """Callbacks a build reports through; the CLI shows them as a progress bar."""

    def start(self, total_passages: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def finish(self) -> None: ...


def passage_input(doc_title: str, chunk_text: str, with_title: bool) -> str:
    """The text that is embedded and BM25-indexed for a passage."""
    return f"{doc_title}\n{chunk_text}" if with_title and doc_title else chunk_text


def build_index(
    corpus: Path,
    index_path: Path,
    embedder: Embedder,
    settings: BuildSettings | None = None,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Index every document under ``corpus`` into ``index_path``, incrementally.

    Raises:
        CorpusError: the corpus is missing or empty.
        ModelLoadError: the embedding model cannot be loaded.
    """
    return build_from_documents(
        _scan(corpus, settings or BuildSettings()),
        index_path,
        embedder,
        settings,
        progress,
        t0=time.perf_counter(),
    )


def _scan(corpus: Path, settings: BuildSettings) -> tuple[Sequence[Document], tuple[Skipped, ...]]:
    scan = load_corpus(corpus, settings.max_file_bytes)
    return scan.documents, scan.skipped


def build_from_documents(
    scanned: tuple[Sequence[Document], tuple[Skipped, ...]],
    index_path: Path,
    embedder: Embedder,
    settings: BuildSettings | None = None,
    progress: BuildProgress | None = None,
    t0: float | None = None,
) -> BuildReport:
    """Index already-loaded documents (see ``build_index``)."""
    t0 = time.perf_counter() if t0 is None else t0
    settings = settings or BuildSettings()
    progress = progress or BuildProgress()
    docs, skipped = scanned
    model = canonical_model(embedder.name)
    with write_lock(index_path):
        previous = _reusable(index_path, model, embedder.dim, settings)
        chunk_rows: list[npt.NDArray[np.int64]] = []
        vector_parts: list[npt.NDArray[np.float32] | None] = []
        passage_texts: list[str] = []
        new_texts: list[str] = []
        to_embed: list[tuple[int, int]] = []  # (part index, number of passages)
        reused = 0
        for doc_i, doc in enumerate(docs):
            old = previous.get(doc.id) if previous else None
            if old is not None and old[0] == doc.content_hash:
                rows, vecs = old[1].copy(), old[2]
                rows[:, 0] = doc_i
                reused += 1
            else:
                chunks = chunk_document(doc, settings.chunking)
                rows = np.array(
                    [[doc_i, c.start, c.end, -1 if c.page is None else c.page] for c in chunks],
                    dtype=np.int64,
                ).reshape(-1, 4)
                vecs = None  # embedded below, in one batched pass over all new passages
                to_embed.append((len(chunk_rows), len(chunks)))
            texts = [
                passage_input(doc.title, doc.text[int(r[1]) : int(r[2])], settings.passage_title)
                for r in rows
            ]
            if vecs is None:
                new_texts.extend(texts)
            chunk_rows.append(rows)
            vector_parts.append(vecs)
            passage_texts.extend(texts)
        progress.start(len(new_texts))
        new_vectors = embedder.embed(new_texts, progress.advance) if new_texts else None
        progress.finish()
        pos = 0
        for part, count in to_embed:
            assert new_vectors is not None
            vector_parts[part] = new_vectors[pos : pos + count]
            pos += count
        dim = embedder.dim
        chunks_arr = np.concatenate(chunk_rows) if chunk_rows else np.zeros((0, 4), np.int64)
        vectors = (
            np.concatenate([v.reshape(-1, dim) for v in vector_parts if v is not None]).astype(
                np.float32
            )
            if vector_parts
            else np.zeros((0, dim), np.float32)
        )
        lexical = LexicalIndex.build(passage_texts)
        dense, dense_info = build_dense(vectors)
        manifest = Manifest(
            model=model,
            dim=dim,
            chunking=settings.chunking,
            passage_title=settings.passage_title,
            documents={d.id: d.content_hash for d in docs},
            n_chunks=len(chunks_arr),
            dense=dense_info,
        )
        content = IndexContent(
            docs=[DocInfo.of(d) for d in docs],
            texts=[d.text for d in docs],
            chunks=chunks_arr,
            vectors=vectors,
            lexical=lexical,
            dense=dense,
        )
        write_index(index_path, content, manifest)
        removed = len(set(previous) - {d.id for d in docs}) if previous else 0
    return BuildReport(
        documents=len(docs),
        chunks=len(chunks_arr),
        embedded_documents=len(to_embed),
        reused_documents=reused,
        removed_documents=removed,
        skipped=skipped,
        seconds=time.perf_counter() - t0,
        index_path=index_path,
    )


_Previous = dict[str, tuple[str, npt.NDArray[np.int64], npt.NDArray[np.float32]]]


def _reusable(index_path: Path, model: str, dim: int, settings: BuildSettings) -> _Previous | None:
    """Passages and vectors of the previous index, by document id, when they can be reused."""
    try:
        old: StoredIndex = open_index(index_path, model)
    except CitebotError:
        return None  # no index yet, another model, or a damaged index: build from scratch
    m = old.manifest
    if m.dim != dim or m.chunking != settings.chunking or m.passage_title != settings.passage_title:
        return None
    out: _Previous = {}
    doc_ids = old.chunks[:, 0]
    order = np.argsort(doc_ids, kind="stable")
    bounds = np.searchsorted(doc_ids[order], np.arange(len(old.docs) + 1))
    for i, info in enumerate(old.docs):
        sel = order[bounds[i] : bounds[i + 1]]
        out[info.id] = (
            info.content_hash,
            np.asarray(old.chunks[sel]),
            np.asarray(old.vectors[sel]),
        )
    return out
