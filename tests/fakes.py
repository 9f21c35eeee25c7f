"""Test doubles at the seams: a deterministic embedder that needs no model.

``FakeEmbedder`` hashes each word (after the lexical tokenizer) into a fixed-size vector and
normalizes it, so texts sharing words are close, exactly like a bag-of-words model: real
FAISS and BM25 indexes are built and searched in milliseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index import BuildSettings, build_index
from index.embedder import Progress, Vectors
from index.lexical import tokenize

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
_SHARED = 0.6


class FakeEmbedder:
    """Bag-of-hashed-words vectors; ``calls`` counts passages embedded (for incremental tests)."""

    def __init__(self, name: str = "fake-embedder", dim: int = 64) -> None:
        self._name = name
        self._dim = dim
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> Vectors:
        vec = np.zeros(self._dim, dtype=np.float32)
        for token in tokenize(text):
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")
            vec[h % (self._dim - 1)] += 1.0
        norm = float(np.linalg.norm(vec))
        if norm:
            vec /= norm
        # A component shared by every text lifts cosines into the range a real sentence model
        # gives related texts (0.3-0.8), so the answer step's thresholds apply unchanged.
        vec[-1] = _SHARED
        return vec / float(np.linalg.norm(vec))

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        self.calls += len(texts)
        out = (
            np.stack([self._vector(t) for t in texts])
            if texts
            else np.zeros((0, self._dim), np.float32)
        )
        if progress is not None:
            progress(len(texts))
        return out.astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self._vector(text)


def build_fake_index(
    index_path: Path, corpus: Path = CORPUS, embedder: FakeEmbedder | None = None
) -> FakeEmbedder:
    """Index ``corpus`` (default: the seed corpus) with a fake embedder; returns the embedder."""
    embedder = embedder or FakeEmbedder()
    build_index(corpus, index_path, embedder, BuildSettings())
    return embedder
