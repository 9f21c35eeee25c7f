"""The lexical (BM25) side of hybrid search, on a sparse matrix of precomputed scores.

Every (term, passage) BM25 contribution is computed at build time into a term-major sparse
matrix saved as plain ``.npy`` arrays (the layout bm25s uses), which load memory-mapped; a
question's scores are a sum over its few terms' columns, so a query touches only the
postings of its own terms. Tokenization (lowercase,
word characters, English stopwords, Snowball stemming) is ours, so the very same function
serves indexing, querying and the answer module's term matching.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
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
# Lucene BM25 parameters on the plateau measured on cranfield and cisi.
K1 = 1.2
B = 0.75


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


@dataclass(frozen=True, slots=True)
class TermCounts:
    """A bag-of-words corpus: (passage, term, count) triples and the term vocabulary."""

    docs: npt.NDArray[np.int64]
    terms: npt.NDArray[np.int64]
    counts: npt.NDArray[np.float32]
    doc_lengths: npt.NDArray[np.float32]
    vocab: dict[str, int]

    @classmethod
    def of(cls, texts: Sequence[str]) -> TermCounts:
        """Tokenize ``texts`` (one per passage) and count their terms."""
        vocab: dict[str, int] = {}
        docs: list[int] = []
        terms: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            tokens = tokenize(text)
            lengths[i] = len(tokens)
            for token, n in Counter(tokens).items():
                docs.append(i)
                terms.append(vocab.setdefault(token, len(vocab)))
                counts.append(n)
        return cls(
            np.asarray(docs, dtype=np.int64),
            np.asarray(terms, dtype=np.int64),
            np.asarray(counts, dtype=np.float32),
            lengths,
            vocab,
        )


CHAMPIONS = 2000


def champion_lists(
    data: npt.NDArray[np.float32],
    indices: npt.NDArray[np.int32],
    indptr: npt.NDArray[np.int64],
    size: int = CHAMPIONS,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Each term's ``size`` highest-scoring passages, best first, as (ids, per-term pointers)."""
    n_terms = len(indptr) - 1
    lengths = np.diff(indptr)
    term = np.repeat(np.arange(n_terms), lengths)
    order = np.lexsort((-data, term))  # by term, then by score, best first
    rank = np.arange(len(order)) - indptr[term[order]]
    champions = np.asarray(indices[order[rank < size]], dtype=np.int32)
    ptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.minimum(lengths, size), out=ptr[1:])
    return champions, ptr


class LexicalIndex:
    """BM25 (Lucene variant) over passages, as a term-major sparse matrix of scores.

    Each term's column lists the passages containing it (sorted by passage id) and the
    term's precomputed BM25 contribution there, so a question costs only its terms'
    postings. At scale, a question's very common terms are not used to *find* candidates
    (they barely move the ranking) but still score every candidate exactly.
    """

    def __init__(
        self,
        data: npt.NDArray[np.float32],
        indices: npt.NDArray[np.int32],
        indptr: npt.NDArray[np.int64],
        vocab: dict[str, int],
        num_docs: int,
        k1: float = K1,
        b: float = B,
        champions: tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]] | None = None,
    ) -> None:
        self._data = data
        self._indices = indices
        self._indptr = indptr
        self._vocab = vocab
        self.num_docs = num_docs
        self.k1 = k1
        self.b = b
        self._champions, self._champion_ptr = champions or champion_lists(data, indices, indptr)

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = K1, b: float = B) -> LexicalIndex:
        """Index ``texts`` (one per passage, in passage order)."""
        return cls.from_counts(TermCounts.of(texts), len(texts), k1, b)

    @classmethod
    def from_counts(
        cls, tc: TermCounts, num_docs: int, k1: float = K1, b: float = B
    ) -> LexicalIndex:
        """Build the score matrix from term counts, vectorized (1M passages in seconds).

        bm25s builds the same matrix with a Python loop per passage; this does it in numpy,
        which is what makes indexing a million passages practical.
        """
        n_terms = len(tc.vocab)
        df = np.bincount(tc.terms, minlength=n_terms).astype(np.float64)
        idf = np.log(1.0 + (num_docs - df + 0.5) / (df + 0.5))
        avgdl = float(tc.doc_lengths.mean()) if num_docs else 1.0
        norm = k1 * (1.0 - b + b * tc.doc_lengths[tc.docs] / max(avgdl, 1e-9))
        scores = (idf[tc.terms] * tc.counts / (tc.counts + norm)).astype(np.float32)
        order = np.lexsort((tc.docs, tc.terms))  # by term, then by passage
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(tc.terms, minlength=n_terms), out=indptr[1:])
        return cls(
            scores[order],
            tc.docs[order].astype(np.int32),
            indptr,
            dict(tc.vocab),
            num_docs,
            k1,
            b,
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "data.npy", self._data)
        np.save(folder / "indices.npy", self._indices)
        np.save(folder / "indptr.npy", self._indptr)
        np.save(folder / "champions.npy", self._champions)
        np.save(folder / "champion_ptr.npy", self._champion_ptr)
        params = {"k1": self.k1, "b": self.b, "num_docs": self.num_docs, "vocab": self._vocab}
        (folder / "vocab.json").write_text(json.dumps(params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> LexicalIndex:
        mode: Literal["r"] | None = "r" if mmap else None
        try:
            params = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            data = np.load(folder / "data.npy", mmap_mode=mode)
            indices = np.load(folder / "indices.npy", mmap_mode=mode)
            indptr = np.load(folder / "indptr.npy")
            vocab = params["vocab"]
            num_docs = int(params["num_docs"])
            k1, b = float(params["k1"]), float(params["b"])
            champions = np.load(folder / "champions.npy", mmap_mode=mode)
            champion_ptr = np.load(folder / "champion_ptr.npy")
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
        if len(champion_ptr) != len(indptr) or int(champion_ptr[-1]) != len(champions):
            raise IndexCorruptError(
                f"lexical index in {folder} is inconsistent; rebuild with `citebot index`"
            )
        return cls(data, indices, indptr, vocab, num_docs, k1, b, (champions, champion_ptr))

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

    def _postings(
        self, tokens: Sequence[str], weights: Sequence[float] | None = None
    ) -> list[tuple[int, int, int, float]]:
        """(term id, start, end, weight) of each known query term's column.

        A term repeated in the query weighs as often as it occurs (as in BM25 with query
        term frequency): it matters for paragraph-long queries.
        """
        out: dict[int, tuple[int, int, int, float]] = {}
        for i, token in enumerate(tokens):
            tid = self._vocab.get(token)
            if tid is None:
                continue
            w = 1.0 if weights is None else float(weights[i])
            lo, hi = int(self._indptr[tid]), int(self._indptr[tid + 1])
            out[tid] = (tid, lo, hi, out[tid][3] + w if tid in out else w)
        return list(out.values())

    def scores(self, tokens: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every passage for the query ``tokens`` (dense array; small indexes)."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        for _, lo, hi, weight in self._postings(tokens):
            # A passage occurs once per term column, so fancy-index addition is exact.
            out[self._indices[lo:hi]] += self._data[lo:hi] * np.float32(weight)
        return out

    def top(
        self,
        tokens: Sequence[str],
        k: int,
        weights: Sequence[float] | None = None,
        budget: int = 50_000,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The ``k`` best passages (ids, scores), best first; zero scores left out.

        When the question's terms have at most ``budget`` postings in all, every posting is
        summed: exact. Past that (large indexes, common words) the candidates are the union
        of each term's champion list (its ``CHAMPIONS`` highest-scoring passages), and every
        candidate is then scored exactly with all the terms: a passage ranks high for a
        question because it ranks high for at least one of its terms.
        """
        spans = self._postings(tokens, weights)
        if not spans or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if sum(hi - lo for _, lo, hi, _ in spans) <= budget:
            ids = np.concatenate([self._indices[lo:hi] for _, lo, hi, _ in spans])
            vals = np.concatenate([self._data[lo:hi] * np.float32(w) for _, lo, hi, w in spans])
            cand, inverse = np.unique(ids, return_inverse=True)
            sums = np.bincount(inverse, weights=vals, minlength=len(cand)).astype(np.float32)
        else:
            # Lists are best first: a long question takes a shorter head of each, so the
            # candidates (and the exact scoring that follows) stay about the same in number.
            head = max(200, min(CHAMPIONS, 8 * CHAMPIONS // 2 // len(spans)))
            ptr = self._champion_ptr
            cand = np.unique(
                np.concatenate(
                    [
                        self._champions[ptr[t] : min(ptr[t] + head, ptr[t + 1])]
                        for t, _, _, _ in spans
                    ]
                )
            ).astype(np.int64)
            sums = self._lookup(cand, spans)
        keep = sums > 0
        cand, sums = cand[keep], sums[keep]
        k = min(k, len(cand))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        best = np.argpartition(-sums, k - 1)[:k]
        best = best[np.argsort(-sums[best], kind="stable")]
        return cand[best].astype(np.int64), sums[best]

    def score_of(
        self, tokens: Sequence[str], passages: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """Exact BM25 scores of the given ``passages`` for the query ``tokens``."""
        return self._lookup(np.asarray(passages, dtype=np.int64), self._postings(tokens))

    def _lookup(
        self, passages: npt.NDArray[np.int64], spans: Sequence[tuple[int, int, int, float]]
    ) -> npt.NDArray[np.float32]:
        out = np.zeros(len(passages), dtype=np.float32)
        for _, lo, hi, weight in spans:
            column = self._indices[lo:hi]  # sorted passage ids
            pos = np.searchsorted(column, passages)
            pos_ok = np.minimum(pos, hi - lo - 1)
            found = (pos < hi - lo) & (column[pos_ok] == passages)
            out += np.where(found, self._data[lo:hi][pos_ok] * weight, 0.0).astype(np.float32)
        return out
