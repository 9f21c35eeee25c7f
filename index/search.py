"""The Retriever: question -> ranked passages (hybrid dense + BM25, with feedback) -> answer.

Retrieval is two rounds, each fusing a BM25 list and a dense (FAISS) list:

1. BM25 top-N and dense top-N for the question, fused.
2. Pseudo-relevance feedback from the first round's best passages: the BM25 query is
   expanded with their most distinctive terms (RM3, idf-weighted) and the question vector is
   moved towards their mean vector (Rocchio); both searches run again and are fused.

Fusion z-scores each list over its own top-N and adds them with equal weight (a passage
missing from a list gets that list's lowest z). Measured on the cranfield and cisi test
collections, this beats reciprocal-rank fusion and either side alone (README, "Quality").
Names, numbers and dates ("32nd", "Pa Ponnarada", "2007") are what small embedding models
miss and BM25 catches; paraphrases are the reverse.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
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

_Ranked = tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """Knobs of hybrid retrieval (defaults measured on cranfield and cisi).

    Attributes:
        candidates: Passages taken from each list before fusion.
        dense_weight: Weight of the dense list in fusion (BM25 gets the rest).
        feedback: Passages of the first round used for feedback (0 turns feedback off).
        expansion_terms: Terms RM3 adds to the BM25 query.
        original_weight: Share of the original question in the expanded BM25 query.
        rocchio: How far the question vector moves towards the feedback passages.
        max_question_chars: Longer questions are refused with a clear error.
    """

    candidates: int = 100
    dense_weight: float = 0.5
    max_question_chars: int = MAX_QUESTION_CHARS
    feedback: int = 10
    expansion_terms: int = 10
    original_weight: float = 0.6
    rocchio: float = 0.75


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

    def search(self, question: str, k: int = 5, feedback: bool = False) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first.

        Args:
            question: The question.
            k: How many passages.
            feedback: Run the second, feedback round. It finds more of the documents on a
                topic (document ranking, ``eval --ir``) but makes the single best sentence
                for a factual question less likely to be on top, so answers go without it.

        Raises:
            QuestionError: the question is empty, has no words, or is too long.
        """
        question = _check(question, self.settings.max_question_chars)
        if len(self.index) == 0 or k <= 0:
            return []
        query_vec = self.embedder.embed_query(question)
        tokens = tokenize(question)
        ids, fused = self._rank(tokens, query_vec, max(k, self.settings.candidates), feedback)
        ids, fused = ids[:k], fused[:k]
        dense = np.asarray(self.index.vectors[ids] @ query_vec, dtype=np.float32)
        lexical = self.index.lexical.score_of(tokens, ids)
        hits = []
        for j, i in enumerate(ids):
            chunk, doc = self.index.chunk(int(i))
            hits.append(Hit(chunk, doc, float(fused[j]), float(dense[j]), float(lexical[j])))
        return hits

    def rank(self, question: str, depth: int, feedback: bool = True) -> _Ranked:
        """Passage ids and fused scores for ``question``, best first (at most ``depth``)."""
        question = _check(question, self.settings.max_question_chars)
        return self._rank(tokenize(question), self.embedder.embed_query(question), depth, feedback)

    def _rank(
        self, tokens: list[str], query_vec: npt.NDArray[np.float32], depth: int, feedback: bool
    ) -> _Ranked:
        # No state is kept on self: the bot runs questions on one Retriever from threads.
        st = self.settings
        pool = min(len(self.index), max(st.candidates, depth))
        lexical = self.index.lexical.top(tokens, pool)
        dense = search_dense(self.index.dense, query_vec, pool)
        first = fuse([lexical, dense], st.dense_weight)
        if not feedback or st.feedback <= 0 or len(first[0]) == 0:
            return first
        top_ids = first[0][: st.feedback]
        weights = self._expanded_query(tokens, top_ids)
        lexical2 = self.index.lexical.top(list(weights), pool, list(weights.values()))
        moved = query_vec + st.rocchio * np.asarray(self.index.vectors[np.sort(top_ids)]).mean(
            axis=0
        )
        moved = (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)
        dense2 = search_dense(self.index.dense, moved, pool)
        return fuse([lexical2, dense2], st.dense_weight)

    def _expanded_query(
        self, tokens: Sequence[str], feedback: npt.NDArray[np.int64]
    ) -> dict[str, float]:
        """RM3: the question's terms plus the feedback passages' most distinctive terms."""
        st = self.settings
        lex = self.index.lexical
        n = lex.num_docs
        mass: dict[str, float] = {}
        for i in feedback:
            chunk, doc = self.index.chunk(int(i))
            counts = Counter(tokenize(doc.title + "\n" + chunk.text))
            length = max(sum(counts.values()), 1)
            for term, c in counts.items():
                mass[term] = mass.get(term, 0.0) + c / length / len(feedback)
        for term in mass:
            mass[term] *= math.log((n + 1) / (lex.document_frequency(term) + 0.5))
        ranked = sorted(mass.items(), key=lambda tw: -tw[1])[: st.expansion_terms]
        top = [(t, w) for t, w in ranked if w > 0]
        total = sum(w for _, w in top) or 1.0
        query = Counter(tokens)
        q_total = sum(query.values()) or 1
        weights: dict[str, float] = {t: st.original_weight * c / q_total for t, c in query.items()}
        for term, w in top:
            weights[term] = weights.get(term, 0.0) + (1 - st.original_weight) * w / total
        return weights

    def ask(self, question: str, k: int = 5) -> Answer:
        """Answer ``question``: a verbatim quote with its evidence, or a refusal."""
        hits = self.search(question, max(k, self.answer_settings.evidence_passages))
        return compose_answer(question, hits, self.index.lexical.idf, self.answer_settings, k=k)


def fuse(lists: Sequence[_Ranked], dense_weight: float) -> _Ranked:
    """Weighted sum of z-scored lists ``[lexical, dense]``; a missing entry gets the list's min."""
    parts = [ids for ids, _ in lists]
    if not any(len(p) for p in parts):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    union, inverse = np.unique(np.concatenate(parts), return_inverse=True)
    total = np.zeros(len(union), dtype=np.float64)
    offset = 0
    for (ids, scores), weight in zip(lists, (1.0 - dense_weight, dense_weight), strict=True):
        if len(ids) == 0:
            continue
        z = np.asarray(scores, dtype=np.float64)
        sd = float(z.std())
        z = (z - z.mean()) / sd if sd > 0 else np.zeros_like(z)
        column = np.full(len(union), z.min())
        column[inverse[offset : offset + len(ids)]] = z
        offset += len(ids)
        total += weight * column
    order = np.argsort(-total, kind="stable")
    return union[order].astype(np.int64), total[order].astype(np.float32)


def _check(question: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty; type a question, e.g. “Who founded CCHR?”")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question)} characters long; ask in at most {max_chars} characters"
        )
    if not content_terms(question) and not tokenize(question):
        raise QuestionError("the question has no words to search for; ask with words")
    return question
