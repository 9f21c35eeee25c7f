"""From ranked passages to an answer: a verbatim quote, or an honest "not found".

Pure functions, no I/O, cheap enough to run on every question (no model calls). Each
sentence of the best passages is scored by how much of the question's key-term weight it
covers (terms weighted by rarity; stems, word-prefix variants and acronyms count), by the
passage it sits in, and by whether it holds the kind of fact asked for (a number for "how
many", a date for "when", a name for "who"). The best sentence becomes the quote, always an
exact slice of the document's cleaned text, and its passage is listed first as source [1].
The question is refused when the evidence is weak: its key terms are missing, or it asks
for a number or a date the best evidence does not contain. A wrong answer without a source
is worse than none.
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
    according kind type sort one ones get got used use date year month day time number
    place city country besides apart rather only also still ever exactly""".split()
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens|"
    r"several|half|once|twice"
)
_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.IGNORECASE)
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(
    rf"\b(\d{{4}}|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow|week|month|year|decade|since|until|ago)\b",
    re.IGNORECASE,
)
_CAPITALIZED = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of|for|the|and|de|on)?\s*[A-Z][\w’'-]*)*")
_SMALL = frozenset({"of", "for", "the", "and", "de", "on"})
_PLACE = re.compile(
    r"\b(?:in|at|from|near|outside|inside|to)\s+(?:the\s+)?([A-Z][\w-]+|capital|city|province|"
    r"village|district|country|region|headquarters)"
)
# A sentence opening with one of these leans on the one before it: quote both.
_ANAPHORA = re.compile(
    r"[\"“‘']?(It|He|She|They|This|These|That|Those|Such|There|Its|His|Her|Their)\b"
)


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """Weights and thresholds of the answer step.

    A candidate span (one sentence, or two adjacent ones) scores
    ``coverage + w_passage * passage coverage + w_dense * passage cosine + w_kind * holds
    the fact asked - pair_penalty``. The fused retrieval rank adds nothing once these are
    counted (measured: weighting it lowered quote accuracy on the eval questions).

    Attributes:
        evidence_passages: How many top passages the quote may come from.
        min_evidence: Refuse when ``cosine + coverage_weight * coverage`` of the quote's
            passage is below this: the question's terms are missing and the meaning is far.
        coverage_weight: See ``min_evidence``.
        min_coverage: Refuse in any case when the quote covers less than this share of the
            question's key-term weight.
    """

    evidence_passages: int = 5
    w_passage: float = 0.5
    w_dense: float = 1.0
    w_kind: float = 0.3
    pair_penalty: float = 0.2
    min_evidence: float = 0.55
    coverage_weight: float = 0.3
    min_coverage: float = 0.15


@dataclass(frozen=True, slots=True)
class QuestionTerms:
    """What a question asks, prepared once for scoring many sentences."""

    weights: dict[str, float]  # stemmed key term -> rarity weight
    acronyms: dict[str, tuple[str, ...]]  # "eu" -> ("european", "union") stems, both ways
    kind: str  # "count", "time", "person", "place" or "other"
    known: frozenset[str]  # lowercase words of the question, to tell new facts from echoes

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0


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


def analyze(question: str, idf: Callable[[str], float]) -> QuestionTerms:
    """Prepare ``question`` for scoring: weighted key terms, acronyms and the kind of fact."""
    terms = content_terms(question) or tokenize(question)
    weights = {t: max(idf(t), 0.05) for t in terms}
    return QuestionTerms(weights, _acronyms(question), _kind(question), frozenset(words(question)))


def _kind(question: str) -> str:
    q = question.lower()
    if re.search(
        r"\bhow (many|much|often|long|large|big|old)\b|\bwhat (number|percentage|share|amount)\b", q
    ):
        return "count"
    if re.search(
        r"^(when|since when)\b|\bwhat (date|day|year|month|time)\b|\bin which (year|month)\b|\bon what date\b|\bwhen\b",
        q,
    ):
        return "time"
    if re.match(r"(who|whom|whose)\b", q):
        return "person"
    if re.match(r"where\b", q) or re.search(r"\bin which (city|country|town|province|place)\b", q):
        return "place"
    return "other"


def coverage(qt: QuestionTerms, text: str) -> float:
    """Share of the question's key-term weight that ``text`` covers (0 to 1)."""
    tokens = set(tokenize(text))
    covered = 0.0
    matched: set[str] = set()
    for acr, parts in qt.acronyms.items():
        # "European Union" in the question and "EU" in the text (or the reverse) match.
        if acr in tokens or all(p in tokens for p in parts):
            matched.update(parts)
            if acr in qt.weights:
                matched.add(acr)
    if qt.acronyms:
        for acr, parts in _acronyms(text).items():
            if acr in qt.weights:
                matched.add(acr)
                tokens.update(parts)
    for term, weight in qt.weights.items():
        if term in tokens or term in matched:
            covered += weight
        elif len(term) >= 4 and any(_variant(term, tok) for tok in tokens):
            covered += 0.7 * weight  # "Swedish" / "Sweden", "founder" / "founded"
    return min(covered / qt.total, 1.0)


def _acronyms(text: str) -> dict[str, tuple[str, ...]]:
    """Initials of capitalized phrases: "European Union" -> {"eu": ("european", "union")}."""
    out: dict[str, tuple[str, ...]] = {}
    for phrase in _CAPITALIZED.findall(text):
        parts = [w for w in phrase.split() if w.lower() not in _SMALL]
        if len(parts) >= 2:
            out["".join(w[0] for w in parts).lower()] = tuple(stem(w.lower()) for w in parts)
    return out


def _variant(a: str, b: str) -> bool:
    if len(b) < 4 or a[:4] != b[:4]:
        return False
    common = len(list(itertools.takewhile(lambda p: p[0] == p[1], zip(a, b, strict=False))))
    return common >= 0.6 * max(len(a), len(b)) or common >= min(len(a), len(b))


def holds_kind(qt: QuestionTerms, sentence: str) -> bool:
    """Whether ``sentence`` holds a *new* fact of the kind asked (not one the question gave)."""
    if qt.kind == "count":
        return any(m.group(0).lower() not in qt.known for m in _NUMBER.finditer(sentence))
    if qt.kind == "time":
        return any(m.group(0).lower() not in qt.known for m in _DATE.finditer(sentence))
    if qt.kind == "place":
        return any(m.group(1).lower() not in qt.known for m in _PLACE.finditer(sentence))
    if qt.kind == "person":
        names = (w for phrase in _CAPITALIZED.findall(sentence[1:]) for w in phrase.split())
        return any(w.lower() not in qt.known and w.lower() not in _QUESTION_WORDS for w in names)
    return True


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
        settings: Weights and thresholds.
        k: How many passages the answer lists.

    Returns:
        An ``Answer`` whose quote is an exact span of the first listed passage's document, or
        with no quote (and the reason) when the evidence does not support one.
    """
    settings = settings or AnswerSettings()
    if not hits:
        return Answer(question, None, (), "the index holds no passages")
    qt = analyze(question, idf)
    evidence = hits[: settings.evidence_passages]
    best: tuple[float, int, int, int] | None = None  # score, hit rank, span start, span end
    for rank, hit in enumerate(evidence):
        passage_cov = coverage(qt, hit.doc.title + "\n" + hit.chunk.text)
        base = settings.w_passage * passage_cov
        for s_start, s_end, pair in _candidate_spans(hit.chunk.text):
            text = hit.chunk.text[s_start:s_end]
            # Overlapping passages share sentences: a span is as close to the question as
            # the closest passage that holds it.
            lo, hi = hit.chunk.start + s_start, hit.chunk.start + s_end
            dense = max(
                h.dense
                for h in evidence
                if h.chunk.doc_id == hit.chunk.doc_id and h.chunk.start <= lo and hi <= h.chunk.end
            )
            score = base + settings.w_dense * dense + coverage(qt, text)
            score -= settings.pair_penalty if pair else 0.0
            if holds_kind(qt, text):
                score += settings.w_kind
            if text.rstrip().endswith("?"):
                score -= 0.5  # a question in the text is not its answer
            if best is None or score > best[0]:
                best = (score, rank, s_start, s_end)
    assert best is not None
    _, rank, s_start, s_end = best
    hit = hits[rank]
    text = hit.chunk.text[s_start:s_end]
    # The passage the quote comes from is source [1]; the others keep their order.
    shown = (hit, *(h for i, h in enumerate(hits) if i != rank))[:k]
    reason = _weak(qt, text, hit, settings)
    if reason:
        return Answer(question, None, tuple(hits[:k]), reason)
    start = hit.chunk.start + s_start
    quote = Quote(text, hit.chunk.doc_id, start, start + len(text), hit_rank=0)
    return Answer(question, quote, shown)


def _weak(qt: QuestionTerms, quote: str, hit: Hit, settings: AnswerSettings) -> str:
    """Why the best evidence does not answer the question, or "" when it does."""
    cov = coverage(qt, quote)
    if (
        cov < settings.min_coverage
        or hit.dense + settings.coverage_weight * cov < settings.min_evidence
    ):
        return "the sources do not mention " + _missing(qt, quote)
    if qt.kind in ("count", "time") and not holds_kind(qt, quote):
        what = "number" if qt.kind == "count" else "date"
        return f"the closest passage gives no {what} for this"
    return ""


def _candidate_spans(text: str) -> list[tuple[int, int, bool]]:
    """Single sentences and pairs of adjacent sentences: (start, end, is_pair)."""
    spans = [(s.start, s.end) for s in sentences(text)]
    out = [(a, b, False) for a, b in spans]
    for a, b in itertools.pairwise(spans):
        # A second sentence that leans on the first ("It does so by ...") makes a free pair.
        out.append((a[0], b[1], _ANAPHORA.match(text, b[0]) is None))
    return out


def _missing(qt: QuestionTerms, sentence: str) -> str:
    present = set(tokenize(sentence))
    absent = [t for t in sorted(qt.weights, key=lambda t: -qt.weights[t]) if t not in present]
    originals = {stem(w): w for w in qt.known}
    shown = [f"“{originals.get(t, t)}”" for t in absent[:3]]
    return ", ".join(shown) if shown else "what the question asks"
