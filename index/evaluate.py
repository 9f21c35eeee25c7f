"""Measuring answer and retrieval quality: question files and IR test collections.

Question files are JSON lines ``{"id", "q", "doc", "answer"}`` (``doc`` null when the corpus
holds no answer; ``answer`` the phrases the cited passage must contain). IR collections are
folders with ``docs.jsonl``, ``queries.jsonl`` and ``qrels.tsv`` (see ../shared/ircoll).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .build import BuildProgress, BuildSettings, build_from_documents
from .embedder import Embedder
from .errors import CitebotError, CorpusError
from .loaders import load_file
from .search import Retriever


@dataclass(frozen=True, slots=True)
class QAItem:
    id: str
    question: str
    doc: str | None
    phrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QAReport:
    answerable: int
    unanswerable: int
    hit_at_1: float
    hit_at_3: float
    mrr: float
    phrases_in_top_passage: float
    phrases_in_quote: float
    refused_right: int
    refused_wrong: int
    failures: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        return [
            f"questions: {self.answerable} answerable, {self.unanswerable} unanswerable",
            f"doc_hit@1: {self.hit_at_1:.3f}",
            f"doc_hit@3: {self.hit_at_3:.3f}",
            f"doc_mrr: {self.mrr:.3f}",
            f"phrases_in_top_passage: {self.phrases_in_top_passage:.3f}",
            f"phrases_in_quote: {self.phrases_in_quote:.3f}",
            f"refusals_right: {self.refused_right}/{self.unanswerable}",
            f"refusals_wrong: {self.refused_wrong}/{self.answerable}",
        ]


def read_questions(path: Path) -> list[QAItem]:
    """Read a question file; raise ``CorpusError`` naming the bad line."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read question file {path}: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            items.append(
                QAItem(
                    str(rec.get("id", n)),
                    str(rec["q"]),
                    rec.get("doc"),
                    tuple(rec.get("answer") or ()),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise CorpusError(
                f'{path}:{n}: expected {{"id", "q", "doc", "answer"}} ({exc.__class__.__name__})'
            ) from exc
    if not items:
        raise CorpusError(f"no questions in {path}")
    return items


def eval_questions(retriever: Retriever, items: Sequence[QAItem], k: int = 5) -> QAReport:
    """Run every question through ``retriever.ask`` and score the answers."""
    answerable = [it for it in items if it.doc is not None]
    hit1 = hit3 = rr = in_top = in_quote = refused_wrong = refused_right = 0.0
    failures: list[str] = []
    for it in items:
        answer = retriever.ask(it.question, k=k)
        if it.doc is None:
            if answer.quote is None:
                refused_right += 1
            else:
                failures.append(
                    f"{it.id}: answered an unanswerable question with {answer.quote.text[:80]!r}"
                )
            continue
        docs: list[str] = []
        for hit in answer.hits:
            if hit.doc.id not in docs:
                docs.append(hit.doc.id)
        if docs[:1] == [it.doc]:
            hit1 += 1
        if it.doc in docs[:3]:
            hit3 += 1
        if it.doc in docs:
            rr += 1 / (docs.index(it.doc) + 1)
        top = answer.hits[0] if answer.hits else None
        if (
            top is not None
            and top.doc.id == it.doc
            and all(p in top.chunk.text for p in it.phrases)
        ):
            in_top += 1
        else:
            failures.append(f"{it.id}: top passage lacks {list(it.phrases)}")
        if answer.quote is None:
            refused_wrong += 1
            failures.append(f"{it.id}: refused ({answer.reason})")
        elif answer.quote.doc_id == it.doc and all(p in answer.quote.text for p in it.phrases):
            in_quote += 1
        else:
            failures.append(f"{it.id}: quote lacks {list(it.phrases)}: {answer.quote.text[:80]!r}")
    n = max(len(answerable), 1)
    return QAReport(
        answerable=len(answerable),
        unanswerable=len(items) - len(answerable),
        hit_at_1=hit1 / n,
        hit_at_3=hit3 / n,
        mrr=rr / n,
        phrases_in_top_passage=in_top / n,
        phrases_in_quote=in_quote / n,
        refused_right=int(refused_right),
        refused_wrong=int(refused_wrong),
        failures=tuple(failures),
    )


@dataclass(frozen=True, slots=True)
class IRReport:
    name: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float

    def lines(self) -> list[str]:
        return [
            f"{self.name} queries: {self.queries}",
            f"{self.name} ndcg@10: {self.ndcg_at_10:.4f}",
            f"{self.name} recall@100: {self.recall_at_100:.4f}",
        ]


def build_collection_index(
    folder: Path,
    index_path: Path,
    embedder: Embedder,
    settings: BuildSettings | None = None,
    progress: BuildProgress | None = None,
) -> None:
    """Index an IR collection's ``docs.jsonl`` (incrementally, so re-runs are quick)."""
    docs_file = folder / "docs.jsonl"
    if not docs_file.is_file():
        raise CorpusError(f"{folder} is not a test collection: it has no docs.jsonl")
    docs = load_file(docs_file, folder)
    build_from_documents((docs, ()), index_path, embedder, settings, progress)


def eval_collection(
    folder: Path,
    retriever: Retriever,
    depth: int = 100,
    on_query: Callable[[], None] | None = None,
) -> IRReport:
    """nDCG@10 (graded) and Recall@100 of ``retriever`` on a test collection."""
    queries = _read_jsonl(folder / "queries.jsonl")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    try:
        for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[2].strip().lstrip("-").isdigit() and int(parts[2]) > 0:
                qrels[parts[0]][parts[1]] = int(parts[2])
    except OSError as exc:
        raise CorpusError(f"{folder} has no readable qrels.tsv: {exc}") from exc
    ndcg = recall = 0.0
    counted = 0
    for q in queries:
        rel = qrels.get(str(q["id"]))
        if not rel:
            continue
        ranked = rank_documents(retriever, str(q["text"]), depth)
        ndcg += ndcg_at(ranked, rel, 10)
        recall += len(set(ranked[:depth]) & set(rel)) / len(rel)
        counted += 1
        if on_query:
            on_query()
    if not counted:
        raise CorpusError(f"no judged queries in {folder}")
    return IRReport(folder.name, counted, ndcg / counted, recall / counted)


def rank_documents(retriever: Retriever, question: str, depth: int) -> list[str]:
    """Documents ranked by their best passage, from fused lists of ``depth`` passages each.

    Lists of 100 (not more) were measured best on cranfield and cisi: deeper lists let
    weakly matching passages into the fusion.
    """
    try:
        ids, _ = retriever.rank(question, depth, feedback=True)
    except CitebotError:
        return []
    docs = retriever.index.docs
    owner = retriever.index.chunks[ids, 0] if len(ids) else []
    ranked = list(dict.fromkeys(docs[int(d)].id for d in owner))
    return ranked[:depth]


def ndcg_at(ranked: Sequence[str], rel: dict[str, int], k: int) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    try:
        return [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from exc
