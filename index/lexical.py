"""The lexical (BM25) side of hybrid search, on bm25s's sparse score matrix.

bm25s precomputes every (term, passage) BM25 contribution into a CSC matrix saved as plain
``.npy`` arrays, which load memory-mapped; a question's scores are a sum over its few terms'
columns, so a query touches only the postings of its own terms. Tokenization (lowercase,
word characters, English stopwords, Snowball stemming) is ours, so the very same function
serves indexing, querying and the answer module's term matching.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from .errors import IndexCorruptError

_WORD = re.compile(r"\w+(?:[-.]\w+)*", re.UNICODE)
_POSSESSIVE = re.compile(r"['’‘]s\b")
# Lucene's English stopword list, the one BM25 baselines are reported with.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
K1 = 0.9
B = 0.4


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a lowercase word."""
    return str(_stemmer().stemWord(word))  # type: ignore[attr-defined]


def words(text: str) -> list[str]:
    """Lowercase word tokens; possessive ``'s`` and hyphenated/dotted compounds kept whole."""
    return _WORD.findall(_POSSESSIVE.sub("", text.lower()))


def tokenize(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """Stemmed tokens of ``text`` without stopwords: the lexical index's vocabulary."""
    out: list[str] = []
    for word in words(text):
        if word in stopwords:
            continue
        out.append(stem(word))
        if "-" in word or "." in word:
            # "non-governmental" also matches "governmental"; "u.n." also matches "un".
            parts = re.split(r"[-.]", word)
            out.extend(stem(p) for p in parts if len(p) > 1 and p not in stopwords)
    return out


class LexicalIndex:
    """BM25 scores over passages, read from bm25s's CSC arrays."""

    def __init__(
        self,
        data: npt.NDArray[np.float32],
        indices: npt.NDArray[np.int32],
        indptr: npt.NDArray[np.int64],
        vocab: dict[str, int],
        num_docs: int,
    ) -> None:
        self._data = data
        self._indices = indices
        self._indptr = indptr
        self._vocab = vocab
        self.num_docs = num_docs

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """Index ``texts`` (one per passage, in passage order)."""
        import bm25s

        corpus_tokens = [tokenize(t) or [""] for t in texts]
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        model.index(corpus_tokens, show_progress=False)
        scores = model.scores
        indptr = np.asarray(scores["indptr"], dtype=np.int64)
        # bm25s adds an empty token to its vocabulary without a matrix column: leave it out.
        vocab = {str(k): int(v) for k, v in model.vocab_dict.items() if int(v) < len(indptr) - 1}
        return cls(
            np.asarray(scores["data"], dtype=np.float32),
            np.asarray(scores["indices"], dtype=np.int32),
            indptr,
            vocab,
            int(scores["num_docs"]),
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "data.npy", self._data)
        np.save(folder / "indices.npy", self._indices)
        np.save(folder / "indptr.npy", self._indptr)
        params = {"k1": K1, "b": B, "num_docs": self.num_docs, "vocab": self._vocab}
        (folder / "vocab.json").write_text(json.dumps(params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> LexicalIndex:
        mode: Literal["r"] | None = "r" if mmap else None
        try:
            params = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            data = np.load(folder / "data.npy", mmap_mode=mode)
            indices = np.load(folder / "indices.npy", mmap_mode=mode)
            indptr = np.load(folder / "indptr.npy", mmap_mode=mode)
            vocab = params["vocab"]
            num_docs = int(params["num_docs"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(
                f"lexical index in {folder} is unreadable ({exc}); rebuild with `citebot index`"
            ) from exc
        if (
            len(indptr) != len(vocab) + 1
            or len(data) != len(indices)
            or int(indptr[-1]) != len(data)
        ):
            raise IndexCorruptError(
                f"lexical index in {folder} is inconsistent; rebuild with `citebot index`"
            )
        return cls(data, indices, indptr, vocab, num_docs)

    def document_frequency(self, token: str) -> int:
        """How many passages contain ``token`` (a stemmed token)."""
        tid = self._vocab.get(token)
        if tid is None:
            return 0
        return int(self._indptr[tid + 1] - self._indptr[tid])

    def idf(self, token: str) -> float:
        """Inverse document frequency of a stemmed token (unseen tokens get the maximum)."""
        df = self.document_frequency(token)
        return float(np.log(1.0 + (self.num_docs - df + 0.5) / (df + 0.5)))

    def scores(
        self, tokens: Sequence[str], weights: Sequence[float] | None = None
    ) -> npt.NDArray[np.float32]:
        """BM25 score of every passage for the query ``tokens`` (optionally weighted)."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        for i, token in enumerate(tokens):
            tid = self._vocab.get(token)
            if tid is None:
                continue
            lo, hi = int(self._indptr[tid]), int(self._indptr[tid + 1])
            contrib = self._data[lo:hi]
            if weights is not None:
                contrib = contrib * np.float32(weights[i])
            out[self._indices[lo:hi]] += contrib
        return out

    def top(
        self, tokens: Sequence[str], k: int, weights: Sequence[float] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The ``k`` best passages (ids, scores), best first; passages scoring 0 are left out."""
        scores = self.scores(tokens, weights)
        k = min(k, len(scores))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        keep = scores[idx] > 0
        return idx[keep].astype(np.int64), scores[idx][keep]
