"""From ranked passages to an answer: a verbatim quote, or an honest "not found".

Pure functions, no I/O. The quote is the sentence (or two adjacent sentences) of the best
evidence that covers the most of the question's key terms, weighted by how rare each term
is; it is always an exact slice of the document's cleaned text. The question is refused
when the evidence is weak: its key terms are missing from the best passage and the passage
is not semantically close either. A wrong answer without a source is worse than none.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .chunking import sentences
from .documents import Answer, Hit, Quote
from .lexical import stem, tokenize, words

# Words that frame a question but say nothing about its subject.
_QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how many much does did do done is are was were
    be been being has have had can could would should may might must shall will the a an of to
    in on at for by with from about as into than that this these those it its they them their
    there here some any all and or but not no yes name named tell me us give list say said
    according kind type sort one ones get got used use""".split()
)
_NUMBER = re.compile(r"\d")
_DATE = re.compile(
    r"\b(\d{4}|january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"week|month|year)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+")


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """Thresholds of the answer step.

    Attributes:
        evidence_passages: How many top passages the quote may come from.
        min_coverage: Refuse when the best passage covers less than this share of the
            question's key-term weight ...
        min_dense: ... unless its cosine similarity to the question reaches this.
        min_coverage_floor: Refuse in any case below this coverage.
    """

    evidence_passages: int = 3
    min_coverage: float = 0.5
    min_dense: float = 0.55
    min_coverage_floor: float = 0.2


def content_terms(question: str) -> list[str]:
    """The question's key terms, stemmed, without question-framing words."""
    seen: list[str] = []
    for word in words(question):
        if word in _QUESTION_WORDS:
            continue
        for tok in tokenize(word):
            if tok not in seen:
                seen.append(tok)
    return seen


def compose_answer(
    question: str,
    hits: Sequence[Hit],
    idf: Callable[[str], float],
    settings: AnswerSettings | None = None,
    k: int = 5,
) -> Answer:
    """Pick the quote that answers ``question`` from ``hits``, or refuse.

    Args:
        question: The question as asked.
        hits: Ranked passages, best first.
        idf: Rarity of a stemmed term in the index (unknown terms rarest).
        settings: Thresholds.
        k: How many passages the answer lists.

    Returns:
        An ``Answer`` whose quote is an exact span of one hit's document, or with no quote and
        the reason when the evidence does not support one.
    """
    settings = settings or AnswerSettings()
    shown = tuple(hits[:k])
    if not hits:
        return Answer(question, None, shown, "the index holds no passages")
    terms = content_terms(question) or tokenize(question)
    weights = {t: max(idf(t), 0.05) for t in terms}
    total = sum(weights.values()) or 1.0

    def coverage(text: str) -> float:
        present = set(tokenize(text))
        return sum(w for t, w in weights.items() if t in present) / total

    best: tuple[float, int, int, int, float] | None = None  # score, hit, start, end, coverage
    for rank, hit in enumerate(hits[: settings.evidence_passages]):
        passage_cov = coverage(hit.doc.title + "\n" + hit.chunk.text)
        for s_start, s_end in _candidate_spans(hit.chunk.text):
            text = hit.chunk.text[s_start:s_end]
            cov = coverage(text)
            score = cov + 0.35 * passage_cov + _type_bonus(question, text) - 0.08 * rank
            if best is None or score > best[0]:
                best = (score, rank, s_start, s_end, cov)
    assert best is not None
    _, rank, s_start, s_end, _ = best
    top = hits[0]
    top_cov = coverage(top.doc.title + "\n" + top.chunk.text)
    if top_cov < settings.min_coverage_floor or (
        top_cov < settings.min_coverage and top.dense < settings.min_dense
    ):
        reason = f"the sources do not mention {_missing(terms, top, weights)}"
        return Answer(question, None, shown, reason)
    hit = hits[rank]
    start, end = hit.chunk.start + s_start, hit.chunk.start + s_end
    quote = Quote(hit.chunk.text[s_start:s_end], hit.chunk.doc_id, start, end, hit_rank=rank)
    if rank >= k:
        shown = (*shown[: k - 1], hit)
        quote = Quote(quote.text, quote.doc_id, start, end, hit_rank=k - 1)
    return Answer(question, quote, shown)


def _candidate_spans(text: str) -> list[tuple[int, int]]:
    """Single sentences, and pairs of adjacent sentences when the first is very short."""
    spans = [(s.start, s.end) for s in sentences(text)]
    out = list(spans)
    for (a_start, a_end), (_, b_end) in itertools.pairwise(spans):
        if a_end - a_start < 60:
            out.append((a_start, b_end))
    return out


def _type_bonus(question: str, sentence: str) -> float:
    q = question.lower()
    if q.startswith(("how many", "how much")) or " how many " in q:
        return 0.15 if _NUMBER.search(sentence) else 0.0
    if q.startswith("when") or "what date" in q or "what year" in q:
        return 0.15 if _DATE.search(sentence) else 0.0
    if q.startswith(("who", "whom")):
        return 0.1 if _NAME.search(sentence) else 0.0
    return 0.0


def _missing(terms: Sequence[str], top: Hit, weights: dict[str, float]) -> str:
    present = set(tokenize(top.doc.title + "\n" + top.chunk.text))
    absent = [t for t in terms if t not in present]
    if not absent:
        return "what the question asks"
    # Show the original words, not stems, for the rarest missing terms.
    original = {stem(w): w for w in words(" ".join(absent))}
    shown = sorted(absent, key=lambda t: -weights.get(t, 0))[:3]
    return ", ".join(f"“{original.get(t, t)}”" for t in shown)
