"""``citebot bench``: how fast and how big citebot is, side by side with the plain approach.

Data (details in ``index.bench_data``): about 3,000 real passages (the seed corpus, then
``../shared/ircoll`` documents, default chunking; the corpus alone without ``../shared``)
embedded with the real model once (cached in the work folder), grown to each size with
normalized noisy copies of their vectors (per-dimension noise 0.0318: about 0.85 cosine from
the source) and texts whose sentences are shuffled within each passage; the lexical side is
built from the seed passages' term counts repeated. Questions are real: ircoll queries and the
``eval/*.jsonl`` questions, shuffled (repeated if fewer than asked for).

Figures, per size ``n``:

- ``p50_ms``/``p95_ms``: ``Retriever.ask`` (ONNX query embedding with one thread, dense
  search, BM25, fusion, answer composition) over every question, after 10 warm-up questions.
- ``baseline_p50_ms``/``baseline_p95_ms``: the same ``Retriever.ask`` with the plain parts
  swapped in: sentence-transformers ``encode`` of the question and an exact ``IndexFlatIP``
  over all ``n`` float32 vectors (one FAISS thread, its fastest setting for one question);
  the BM25, fusion and answer steps are ours in both. ``speedup_p50`` is the ratio.
- ``embed_p50_ms``, ``dense_p50_ms`` and ``flat_p50_ms``: the question embedding alone, our
  dense search alone and exact flat search alone (100 candidates, as ``ask`` asks for).
- ``recall_at_10``: share of the exact top 10 (flat search) our dense index returns, on the
  embedded questions (1.0 where the index is exact).
- ``rss_mb``/``peak_rss_mb``: VmRSS/VmHWM of a fresh process that opens the index with
  ``open_index``, loads the ONNX embedder and answers 20 questions.
- ``build_s``: growing the data and writing the index (cached between runs: then the time of
  the run that built it).

Top level: ``cold_start_s`` (``citebot ask QUESTION`` on the seed-corpus index, process start to
the first printed byte of the answer, median of runs), ``import_s`` (a fresh process importing
``bot.__main__`` and everything ``ask`` loads, median), ``index_docs_per_s`` (raw ``.txt`` files
to a saved index with ``build_index`` and the ONNX embedder on two threads) against
``baseline_index_docs_per_s`` (load and chunk the same files, sentence-transformers ``encode``,
``IndexFlatIP``, save vectors and chunks; models loaded and warm before either clock starts;
best of two alternating runs each),
and ``incremental_fraction`` (re-running ``build_index`` after one of ``incremental_docs`` short
documents (one seed passage each) changed, over the full build of that corpus; same embedder).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .bench_data import Say, Seed, bench_questions, load_seed, seed_documents, write_grown
from .bench_probe import REPO, probe_memory
from .dense import search_dense
from .embedder import Embedder
from .errors import ConfigError
from .store import canonical_model, open_index

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
_GROWTH = ("p50_ms", "p95_ms", "baseline_p50_ms", "speedup_p50", "recall_at_10", "rss_mb")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Models:
    """The embedders measured.

    Attributes:
        query: Answers questions (ONNX, one thread).
        indexer: Builds indexes (ONNX, two threads).
        plain: The straightforward approach (sentence-transformers).
        onnx: The ONNX export, for the subprocesses; None makes them use ``StandInEmbedder``.
    """

    query: Embedder
    indexer: Embedder
    plain: Embedder
    onnx: Path | None


@dataclass(frozen=True, slots=True)
class BenchConfig:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    questions: int = 300
    work: Path = Path("var/bench")
    corpus: Path = REPO / "corpus"
    ircoll: Path | None = REPO.parent / "shared" / "ircoll"
    env_file: Path = Path(".env")
    seed_passages: int = 3000
    index_docs: int = 300
    incremental_docs: int = 10_000
    repeats: int = 3


@dataclass(frozen=True, slots=True)
class SizeResult:
    n: int
    p50_ms: float
    p95_ms: float
    baseline_p50_ms: float
    baseline_p95_ms: float
    speedup_p50: float
    recall_at_10: float
    rss_mb: float
    peak_rss_mb: float
    embed_p50_ms: float
    dense_p50_ms: float
    flat_p50_ms: float
    build_s: float
    documents: int
    dense: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BenchResult:
    sizes: dict[int, SizeResult]
    cold_start_s: float
    import_s: float
    import_loads_torch: int
    index_docs_per_s: float
    baseline_index_docs_per_s: float
    index_speedup: float
    incremental_fraction: float
    incremental_s: float
    full_build_s: float
    incremental_docs: int
    index_docs: int
    questions: int
    seed_passages: int
    total_s: float

    def to_json(self) -> dict[str, Any]:
        """One JSON object: ``{"sizes": {"<n>": {...}}, "cold_start_s": ..., ...}``."""
        out = asdict(self)
        out["sizes"] = {str(n): asdict(r) for n, r in self.sizes.items()}
        return out


def real_models(model: str, work: Path) -> Models:
    """The ONNX embedders (exported next to the bench's seed index) and the plain one.

    Raises:
        ModelLoadError: the model cannot be loaded or exported.
    """
    from .embedder import SentenceTransformerEmbedder
    from .errors import ModelLoadError
    from .onnx_embedder import OnnxEmbedder, export_onnx, onnx_folder

    folder = onnx_folder(work / "seed-index", canonical_model(model))
    indexer = export_onnx(model, folder, threads=2)
    if indexer is None:
        raise ModelLoadError(f"cannot export {model} to ONNX; the log says why")
    return Models(
        OnnxEmbedder(folder, threads=1), indexer, SentenceTransformerEmbedder(model), folder
    )


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"10000,100000"`` -> ``(10000, 100000)``.

    Raises:
        ConfigError: not a comma-separated list of positive integers.
    """
    try:
        sizes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise ConfigError(f"--sizes takes positive integers separated by commas, not {text!r}")
    return sizes


def run_bench(config: BenchConfig, models: Models, say: Say) -> BenchResult:
    """Measure everything (see the module docstring); ``say`` receives progress lines."""
    from .bench_speed import (
        measure_cold_start,
        measure_imports,
        measure_incremental,
        measure_indexing,
    )

    t0 = time.perf_counter()
    work = config.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    docs = seed_documents(config.corpus, config.ircoll, config.seed_passages)
    seed = load_seed(docs, models.indexer, work / "cache", say)
    questions = bench_questions(REPO, config.ircoll, config.questions)
    if not questions:
        raise ConfigError(f"no questions found in {REPO / 'eval'} or {config.ircoll}")
    qfile = work / "questions.txt"
    qfile.write_text("\n".join(questions) + "\n", encoding="utf-8")
    say(f"{len(seed.pieces)} seed passages from {len(seed.docs)} documents; {len(questions)} q")
    import_s, torch = measure_imports(config.repeats)
    say(f"import_s {import_s:.2f}")
    cold = measure_cold_start(config, models, work, questions[0])
    say(f"cold_start_s {cold:.2f}")
    ours, plain = measure_indexing(config, models, work, say)
    incremental, full = measure_incremental(config, models, seed, work, say)
    sizes: dict[int, SizeResult] = {}
    for n in config.sizes:
        sizes[n] = measure_size(n, seed, questions, qfile, models, work, say)
        gc.collect()
    return BenchResult(
        sizes=sizes,
        cold_start_s=round(cold, 3),
        import_s=round(import_s, 3),
        import_loads_torch=int(torch),
        index_docs_per_s=round(ours, 2),
        baseline_index_docs_per_s=round(plain, 2),
        index_speedup=round(ours / plain, 2) if plain else 0.0,
        incremental_fraction=round(incremental / full, 4) if full else 0.0,
        incremental_s=round(incremental, 3),
        full_build_s=round(full, 3),
        incremental_docs=config.incremental_docs,
        index_docs=config.index_docs,
        questions=len(questions),
        seed_passages=len(seed.pieces),
        total_s=round(time.perf_counter() - t0, 1),
    )


def ensure_index(
    seed: Seed, n: int, root: Path, model: str, say: Say
) -> tuple[float, dict[str, Any]]:
    """Build the grown index of ``n`` passages unless the one at ``root`` is already it.

    Returns:
        The build's seconds and the dense index's description.
    """
    stamp = root / "bench.json"
    key = {"seed": seed.key, "n": n, "model": canonical_model(model)}
    if stamp.is_file():
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            say(f"n={n}: reusing the index built earlier in {saved['build_s']:.0f} s")
            return float(saved["build_s"]), dict(saved["dense"])
    shutil.rmtree(root, ignore_errors=True)
    say(f"n={n}: growing the seed and building the index")
    t = time.perf_counter()
    info = write_grown(seed, n, root, model)
    build_s = time.perf_counter() - t
    stamp.write_text(json.dumps({"key": key, "build_s": build_s, "dense": info}), encoding="utf-8")
    return build_s, info


def measure_size(
    n: int, seed: Seed, questions: Sequence[str], qfile: Path, models: Models, work: Path, say: Say
) -> SizeResult:
    """Every per-size figure for an index of ``n`` passages (see the module docstring)."""
    root = work / f"size-{n}"
    build_s, info = ensure_index(seed, n, root, models.indexer.name, say)
    lat, embed, dense, documents = _time_ours(root, questions, models.query)
    say(f"n={n}: ours p50 {_pct(lat, 50):.1f} ms; exact baseline next")
    qvecs = np.stack([models.query.embed_query(q) for q in questions]).astype(np.float32)
    base, flat_ms, recall = _time_plain(root, questions, qvecs, models.plain)
    gc.collect()
    rss, peak = probe_memory(root, models.onnx, qfile)
    p50, b50 = _pct(lat, 50), _pct(base, 50)
    say(f"n={n}: p50 {p50:.1f} ms vs {b50:.1f} ms, recall {recall:.3f}, rss {rss:.0f} MB")
    return SizeResult(
        n=n,
        p50_ms=round(p50, 2),
        p95_ms=round(_pct(lat, 95), 2),
        baseline_p50_ms=round(b50, 2),
        baseline_p95_ms=round(_pct(base, 95), 2),
        speedup_p50=round(b50 / p50, 2),
        recall_at_10=round(recall, 4),
        rss_mb=round(rss, 1),
        peak_rss_mb=round(peak, 1),
        embed_p50_ms=round(_pct(embed, 50), 2),
        dense_p50_ms=round(_pct(dense, 50), 3),
        flat_p50_ms=round(_pct(flat_ms, 50), 2),
        build_s=round(build_s, 1),
        documents=documents,
        dense=info,
    )


def _time_ours(
    root: Path, questions: Sequence[str], query: Embedder
) -> tuple[list[float], list[float], list[float], int]:
    """Latencies of ``ask``, of the question embedding and of dense search; document count."""
    from .search import Retriever

    stored = open_index(root, query.name)
    ours = Retriever(stored, query)
    lat = latencies(lambda q: ours.ask(q, k=5), questions)
    embed = latencies(query.embed_query, questions)
    qvecs = [query.embed_query(q) for q in questions]
    dense = latencies(lambda v: search_dense(stored.dense, v, 100), qvecs)
    return lat, embed, dense, len(stored.docs)


def _time_plain(
    root: Path, questions: Sequence[str], qvecs: npt.NDArray[np.float32], plain: Embedder
) -> tuple[list[float], list[float], float]:
    """Latencies of the plain ``ask`` and of exact search alone; our dense recall@10."""
    import faiss

    from .search import Retriever

    index = open_index(root)
    flat = faiss.IndexFlatIP(index.manifest.dim)
    flat.add(np.ascontiguousarray(index.vectors, dtype=np.float32))
    recall = dense_recall(index.dense, flat, qvecs)
    index.dense = flat
    faiss.omp_set_num_threads(1)
    flat_ms = latencies(lambda v: search_dense(flat, v, 100), list(qvecs))
    retriever = Retriever(index, plain)
    base = latencies(lambda q: retriever.ask(q, k=5), questions)
    return base, flat_ms, recall


def latencies(fn: Callable[[T], object], items: Sequence[T], warmup: int = 10) -> list[float]:
    """Milliseconds of ``fn(item)`` for each item, after ``warmup`` untimed calls."""
    for item in items[:warmup]:
        fn(item)
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def dense_recall(index: Any, exact: Any, queries: npt.NDArray[np.float32]) -> float:
    """Share of ``exact``'s top 10 that ``index`` returns, over ``queries``."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        _, truth = exact.search(queries, 10)
        _, found = index.search(queries, 10)
    finally:
        faiss.omp_set_num_threads(1)
    hits = sum(len(set(t) & set(f)) for t, f in zip(truth.tolist(), found.tolist(), strict=True))
    return float(hits / truth.size)


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


def report_lines(result: BenchResult) -> list[str]:
    """``name: value`` lines: per size, then top level, then how each figure grows."""
    lines = []
    for n, r in result.sizes.items():
        for name, value in asdict(r).items():
            if name not in ("n", "dense"):
                lines.append(f"sizes.{n}.{name}: {value}")
        lines.append(f"sizes.{n}.dense: {json.dumps(r.dense)}")
    top = result.to_json()
    lines += [f"{name}: {value}" for name, value in top.items() if name != "sizes"]
    if len(result.sizes) > 1:
        for name in _GROWTH:
            values = [(n, float(getattr(r, name))) for n, r in result.sizes.items()]
            steps = [f"{n}={v:g}" for n, v in values]
            ratios = [f"x{b / a:.2f}" if a else "x-" for (_, a), (_, b) in pairwise(values)]
            lines.append(f"growth.{name}: {' -> '.join(steps)} ({', '.join(ratios)})")
    return lines


def run_from_cli(
    sizes: str, questions: int, work: Path, model: str, as_json: bool, env_file: str
) -> str:
    """``citebot bench``: run with the real models and return what to print."""
    if questions < 1:
        raise ConfigError("--questions must be at least 1 (the figures want 200 or more)")
    config = BenchConfig(
        sizes=parse_sizes(sizes), questions=questions, work=work, env_file=Path(env_file)
    )

    def say(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    result = run_bench(config, real_models(model, config.work.resolve()), say)
    return json.dumps(result.to_json()) if as_json else "\n".join(report_lines(result))
