"""The Retriever: question -> ranked passages (hybrid dense + BM25) -> answer.

Candidates come from both sides (FAISS nearest neighbours and BM25 top passages); every
candidate then gets *both* scores exactly (its cosine from the stored vector, its BM25 score
from the lexical matrix), and the two are fused as a weighted sum of normalized scores.
Names, numbers and dates ("32nd", "Pa Ponnarada", "2007") are what small embedding models
miss and BM25 catches; paraphrases are the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .answer import AnswerSettings, compose_answer, content_terms
from .dense import search_dense
from .documents import Answer, DocInfo, Hit
from .embedder import Embedder
from .errors import QuestionError
from .lexical import tokenize
from .store import StoredIndex, open_index

MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """Knobs of hybrid retrieval.

    Attributes:
        candidates: Passages taken from each side before fusion.
        dense_weight: Weight of the dense score in the fused score (lexical gets the rest).
    """

    candidates: int = 100
    dense_weight: float = 0.5


class Retriever:
    """Answers questions from one loaded index."""

    def __init__(
        self,
        index: StoredIndex,
        embedder: Embedder,
        settings: SearchSettings | None = None,
        answer_settings: AnswerSettings | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or SearchSettings()
        self.answer_settings = answer_settings or AnswerSettings()

    @classmethod
    def open(
        cls, path: Path, embedder: Embedder, settings: SearchSettings | None = None
    ) -> Retriever:
        """Load the index at ``path`` for ``embedder``'s model (see ``open_index``)."""
        return cls(open_index(path, embedder.name), embedder, settings)

    def sources(self) -> list[DocInfo]:
        """The documents in the index, in corpus order."""
        return list(self.index.docs)

    def document(self, doc_id: str) -> DocInfo | None:
        return self.index.document(doc_id)

    def text(self, doc_id: str) -> str:
        return self.index.text(doc_id)

    def search(self, question: str, k: int = 5) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first.

        Raises:
            QuestionError: the question is empty, has no words, or is too long.
        """
        question = _check(question)
        n = len(self.index)
        if n == 0 or k <= 0:
            return []
        pool = min(n, max(self.settings.candidates, k))
        query_vec = self.embedder.embed_query(question)
        dense_ids, _ = search_dense(self.index.dense, query_vec, pool)
        lex_all = self.index.lexical.scores(tokenize(question))
        lex_ids = _top(lex_all, pool)
        ids = np.unique(np.concatenate([dense_ids, lex_ids]))
        dense = np.asarray(self.index.vectors[ids] @ query_vec, dtype=np.float32)
        lexical = lex_all[ids]
        fused = fuse(dense, lexical, self.settings.dense_weight)
        order = np.argsort(-fused, kind="stable")[:k]
        hits = []
        for j in order:
            chunk, doc = self.index.chunk(int(ids[j]))
            hits.append(Hit(chunk, doc, float(fused[j]), float(dense[j]), float(lexical[j])))
        return hits

    def ask(self, question: str, k: int = 5) -> Answer:
        """Answer ``question``: a verbatim quote with its evidence, or a refusal."""
        hits = self.search(question, max(k, self.answer_settings.evidence_passages))
        return compose_answer(question, hits, self.index.lexical.idf, self.answer_settings, k=k)


def fuse(
    dense: npt.NDArray[np.float32], lexical: npt.NDArray[np.float32], dense_weight: float
) -> npt.NDArray[np.float32]:
    """Weighted sum of the two scores, each scaled to [0, 1] over the candidates."""
    return (dense_weight * _minmax(dense) + (1.0 - dense_weight) * _minmax(lexical)).astype(
        np.float32
    )


def _minmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if len(x) == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-9:
        return np.zeros_like(x) if hi <= 0 else np.ones_like(x)
    return (x - lo) / (hi - lo)


def _top(scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
    k = min(k, len(scores))
    idx = np.argpartition(-scores, k - 1)[:k]
    return idx[scores[idx] > 0].astype(np.int64)


def _check(question: str) -> str:
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty; type a question, e.g. “Who founded CCHR?”")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(question)} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS} characters"
        )
    if not content_terms(question) and not tokenize(question):
        raise QuestionError("the question has no words to search for; ask with words")
    return question
