"""Benchmark data: a few thousand real passages, grown to any number of passages.

How the data is made (``citebot bench``; the same words are in ``index.bench``):

1. **Seed documents**: every document of the seed corpus (``corpus/``), then documents of the
   IR test collections under ``../shared/ircoll/*/docs.jsonl`` (cisi and cranfield, taken in
   turn), until the seed holds ``limit`` passages (default 3,000). Without ``../shared`` the
   seed is the corpus alone.
2. **Seed passages**: each document cut with the default ``ChunkSettings``; a passage's text
   is ``passage_input(title, chunk, with_title=True)``, exactly what ``citebot index``
   embeds and BM25-indexes. These are embedded once with the real model (cached under the
   work folder, keyed by model and texts).
3. **Growing to n passages**: passage ``i`` copies seed passage ``i mod n0`` (``n0`` seed
   passages), in rounds: round 0 is the seed itself; in round ``r > 0`` each seed document
   becomes a new document ``<id>~<r>`` whose passages are its passages with their sentences
   shuffled, and whose vectors are the seed vectors plus Gaussian noise (``SIGMA`` = 0.0318
   per dimension, as calibrated in the performance study: a copy is about 0.85 cosine from
   its source, like a real nearest neighbour), normalized again.
4. **Lexical side**: shuffling sentences keeps a passage's bag of words, so the BM25 index is
   built from the seed passages' term counts repeated row for row (``TermCounts``) with
   ``LexicalIndex.from_counts``: the same matrix tokenizing the shuffled texts would give.
5. The index is written with ``write_index`` as ``citebot index`` writes one, dense side from
   ``build_dense`` (exact up to 50,000 passages, IVF-SQ8 with tuned ``nprobe`` above).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .build import passage_input
from .chunking import ChunkSettings, chunk_document, sentences
from .dense import build_dense
from .documents import DocInfo, Document
from .embedder import Embedder
from .lexical import TermCounts, tokenize
from .loaders import load_corpus, load_file
from .search import MAX_QUESTION_CHARS
from .store import IndexContent, Manifest, canonical_model, write_index, write_lock

SIGMA = 0.0318
_BLOCK = 100_000  # rows of noisy vectors made at a time (bounded temporary memory)

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Seed:
    """The real passages the benchmark grows from, with their vectors and term counts.

    Attributes:
        docs: Seed documents with at least one passage.
        first: Index of each document's first passage.
        pieces: Each passage's sentences (chunk text without the title).
        vectors: One unit vector per passage, by the real model.
        counts: Term counts of each passage's indexed text (title + chunk).
        key: Digest of model and texts (names caches).
    """

    docs: tuple[Document, ...]
    first: npt.NDArray[np.int64]
    pieces: tuple[tuple[str, ...], ...]
    vectors: npt.NDArray[np.float32]
    counts: TermCounts
    key: str

    @property
    def doc_of(self) -> npt.NDArray[np.int64]:
        """The seed document of each seed passage."""
        sizes = np.diff(np.append(self.first, len(self.pieces)))
        return np.repeat(np.arange(len(self.docs), dtype=np.int64), sizes)


def ircoll_documents(ircoll: Path | None) -> list[Document]:
    """Documents of every collection under ``ircoll``, collections taken in turn ([] if absent)."""
    if ircoll is None or not ircoll.is_dir():
        return []
    per: list[list[Document]] = []
    for folder in sorted(p for p in ircoll.iterdir() if (p / "docs.jsonl").is_file()):
        docs = load_file(folder / "docs.jsonl", folder)
        per.append([dataclasses.replace(d, id=f"{folder.name}/{d.id}") for d in docs])
    out: list[Document] = []
    for i in range(max((len(p) for p in per), default=0)):
        out.extend(p[i] for p in per if i < len(p))
    return out


def seed_documents(corpus: Path, ircoll: Path | None, limit: int) -> list[Document]:
    """The corpus documents, then ircoll documents until ``limit`` passages."""
    out: list[Document] = []
    passages = 0
    for doc in [*load_corpus(corpus).documents, *ircoll_documents(ircoll)]:
        if passages >= limit:
            break
        n = len(chunk_document(doc, ChunkSettings()))
        if n:
            out.append(doc)
            passages += n
    return out


def load_seed(docs: Sequence[Document], embedder: Embedder, cache: Path, say: Say) -> Seed:
    """Chunk and embed the seed documents (vectors cached in ``cache``)."""
    first: list[int] = []
    pieces: list[tuple[str, ...]] = []
    inputs: list[str] = []
    for doc in docs:
        first.append(len(pieces))
        for chunk in chunk_document(doc, ChunkSettings()):
            spans = sentences(chunk.text)
            pieces.append(tuple(chunk.text[s.start : s.end] for s in spans) or (chunk.text,))
            inputs.append(passage_input(doc.title, chunk.text, True))
    digest = hashlib.sha256(canonical_model(embedder.name).encode())
    for text in inputs:
        digest.update(text.encode("utf-8") + b"\x00")
    key = digest.hexdigest()[:16]
    path = cache / f"seed-{key}.npy"
    if path.is_file():
        vectors = np.load(path)
    else:
        say(f"embedding {len(inputs)} seed passages (cached for later runs)")
        vectors = embedder.embed(inputs).astype(np.float32)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return Seed(
        tuple(docs),
        np.asarray(first, dtype=np.int64),
        tuple(pieces),
        vectors,
        TermCounts.of(inputs),
        key,
    )


def grown_vectors(seed: Seed, n: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """``n`` unit vectors: the seed's, then noisy copies in rounds (see the module docstring)."""
    n0, dim = seed.vectors.shape
    out = np.empty((n, dim), dtype=np.float32)
    out[: min(n, n0)] = seed.vectors[: min(n, n0)]
    for lo in range(n0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        block = seed.vectors[np.arange(lo, hi) % n0]
        block = block + np.float32(SIGMA) * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo:hi] = block
    return out


def grown_counts(seed: Seed, n: int) -> TermCounts:
    """Term counts of ``n`` grown passages: each seed passage's rows, repeated."""
    tc = seed.counts
    n0 = len(seed.pieces)
    src = np.arange(n, dtype=np.int64) % n0
    per = np.bincount(tc.docs, minlength=n0).astype(np.int64)
    start = np.searchsorted(tc.docs, np.arange(n0)).astype(np.int64)
    cnt = per[src]
    ends = np.cumsum(cnt)
    rows = np.repeat(start[src] - (ends - cnt), cnt) + np.arange(int(ends[-1]), dtype=np.int64)
    return TermCounts(
        np.repeat(np.arange(n, dtype=np.int64), cnt),
        tc.terms[rows],
        tc.counts[rows],
        tc.doc_lengths[src],
        tc.vocab,
    )


def grown_documents(
    seed: Seed, n: int, rng: random.Random
) -> tuple[list[DocInfo], list[str], npt.NDArray[np.int64]]:
    """Documents, texts and passage rows of ``n`` grown passages (sentences shuffled)."""
    n0 = len(seed.pieces)
    doc_of = seed.doc_of.tolist()
    infos: list[DocInfo] = []
    texts: list[str] = []
    rows = np.empty((n, 4), dtype=np.int64)
    rows[:, 3] = -1
    parts: list[str] = []
    length = 0
    for i in range(n):
        round_, s = divmod(i, n0)
        d = doc_of[s]
        if s == int(seed.first[d]) and parts:
            texts.append("\n\n".join(parts))
            parts, length = [], 0
        if not parts:
            doc = seed.docs[d]
            suffix = f"~{round_}" if round_ else ""
            infos.append(
                DocInfo(
                    id=doc.id + suffix,
                    title=doc.title,
                    source=doc.source,
                    content_hash=doc.content_hash[:16] + suffix,
                )
            )
        piece = list(seed.pieces[s])
        if round_ and len(piece) > 1:
            rng.shuffle(piece)
        text = " ".join(piece)
        start = length + (2 if parts else 0)
        rows[i, :3] = (len(infos) - 1, start, start + len(text))
        parts.append(text)
        length = start + len(text)
    if parts:
        texts.append("\n\n".join(parts))
    infos = [dataclasses.replace(info, length=len(t)) for info, t in zip(infos, texts, strict=True)]
    return infos, texts, rows


def write_grown(seed: Seed, n: int, root: Path, model: str, seed_value: int = 0) -> dict[str, Any]:
    """Grow the seed to ``n`` passages and write that index at ``root``.

    Returns:
        The dense index's description (kind, nlist, nprobe, build-time recall).
    """
    from .lexical import LexicalIndex

    vectors = grown_vectors(seed, n, np.random.default_rng(seed_value))
    infos, texts, rows = grown_documents(seed, n, random.Random(seed_value))
    lexical = LexicalIndex.from_counts(grown_counts(seed, n), n)
    dense, info = build_dense(vectors)
    manifest = Manifest(
        model=canonical_model(model),
        dim=int(vectors.shape[1]),
        chunking=ChunkSettings(),
        passage_title=True,
        documents={d.id: d.content_hash for d in infos},
        n_chunks=n,
        dense=info,
    )
    with write_lock(root):
        write_index(root, IndexContent(infos, texts, rows, vectors, lexical, dense), manifest)
    return info


def bench_questions(repo: Path, ircoll: Path | None, count: int, seed: int = 0) -> list[str]:
    """``count`` real questions: ircoll queries and ``eval/*.jsonl`` questions, shuffled.

    Questions too long for citebot or without words are left out; with fewer than ``count``
    left (no ``../shared``), the list is repeated.
    """
    found: list[str] = []
    for path in sorted((repo / "eval").glob("*.jsonl")):
        found += [str(json.loads(line)["q"]) for line in _lines(path)]
    if ircoll is not None and ircoll.is_dir():
        for path in sorted(ircoll.glob("*/queries.jsonl")):
            found += [str(json.loads(line)["text"]) for line in _lines(path)]
    usable = [
        " ".join(q.split())
        for q in found
        if q.strip() and len(q.strip()) <= MAX_QUESTION_CHARS and tokenize(q)
    ]
    random.Random(seed).shuffle(usable)
    if not usable:
        return []
    return [usable[i % len(usable)] for i in range(count)]


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
