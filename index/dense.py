"""The dense (FAISS) side of hybrid search: choosing, building and loading the vector index.

Small indexes use exact inner-product search (``IndexFlatIP``): up to ``EXACT_LIMIT``
vectors it answers in about a millisecond and is exactly right. Past it the index is
approximate (see ``build_dense``), its search-time knob tuned at build time until recall@10
against exact search clears ``TARGET_RECALL`` with a margin, on probe queries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import IndexCorruptError

EXACT_LIMIT = 50_000
TARGET_RECALL = 0.95
_TUNE_RECALL = 0.97  # tune to a margin above the target: real questions differ from probes
_NPROBES = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
# A floor as well: probes only approximate real questions (measured at 1M: nprobe 4 gave
# recall 0.88 on real questions, 16 gave 0.98, for 0.3 ms more).
_MIN_NPROBE = 16


def build_dense(
    vectors: npt.NDArray[np.float32], exact_limit: int = EXACT_LIMIT, seed: int = 0
) -> tuple[Any, dict[str, Any]]:
    """Build a FAISS index over unit ``vectors`` (row ``i`` is passage ``i``).

    Up to ``exact_limit`` vectors: exact ``IndexFlatIP``. Above: an inverted file over
    8-bit scalar-quantized vectors (IVF-SQ8, about 4 sqrt(n) lists): a quarter of the
    memory of exact search and well under a millisecond per query at a million passages.
    Its ``nprobe`` is tuned here, on probe queries, to the smallest value whose recall@10
    against exact search reaches 0.97.

    Returns:
        The index and a description of it (kind, parameters, measured recall) for the
        manifest.
    """
    import faiss

    n, dim = vectors.shape
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # all cores for k-means and adding
    if n <= exact_limit:
        faiss.omp_set_num_threads(1)
        return _flat(vectors), {"kind": "flat"}
    rng = np.random.default_rng(seed)
    nlist = int(4 * np.sqrt(n))
    quantizer = faiss.IndexFlatIP(dim)
    index: Any = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    sample = vectors[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
    index.train(sample)
    index.add(vectors)
    faiss.omp_set_num_threads(1)  # tune as questions are asked: one at a time
    nprobe, recall = _tune_nprobe(index, vectors, rng)
    if recall < TARGET_RECALL:
        # Vectors without cluster structure defeat an inverted file: stay exact.
        return _flat(vectors), {"kind": "flat", "ivf_recall_at_10": recall}
    index.nprobe = nprobe
    return index, {"kind": "ivf-sq8", "nlist": nlist, "nprobe": nprobe, "recall_at_10": recall}


def _flat(vectors: npt.NDArray[np.float32]) -> Any:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(vectors)
    return index


def probe_queries(
    vectors: npt.NDArray[np.float32], count: int, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Question-like probes: stored vectors with noise, about 0.55 cosine from their source.

    Real questions sit far from their best passage (cosine about 0.6 with MiniLM); probes
    nearer to the data (0.7) made the tuning settle on too few lists (recall 0.84-0.88 on
    real questions in ``citebot bench``).
    """
    n, dim = vectors.shape
    base = vectors[rng.choice(n, size=min(count, n), replace=False)]
    noisy = base + rng.normal(0.0, 1.5 / np.sqrt(dim), size=base.shape).astype(np.float32)
    unit: npt.NDArray[np.float32] = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(
        np.float32
    )
    return unit


def recall_at_10(
    index: Any, vectors: npt.NDArray[np.float32], queries: npt.NDArray[np.float32]
) -> float:
    """Share of the exact top-10 (by brute force over ``vectors``) that ``index`` returns."""
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, found = index.search(queries, 10)
    hits = sum(len(set(e) & set(f)) for e, f in zip(exact.tolist(), found.tolist(), strict=True))
    return hits / exact.size


def _tune_nprobe(
    index: Any, vectors: npt.NDArray[np.float32], rng: np.random.Generator
) -> tuple[int, float]:
    queries = probe_queries(vectors, 200, rng)
    recall = 0.0
    # Probing more than an eighth of the lists buys little over exact search: stop there.
    nprobes = [p for p in _NPROBES if _MIN_NPROBE <= p <= max(index.nlist // 8, _MIN_NPROBE)]
    for nprobe in nprobes:
        index.nprobe = nprobe
        recall = recall_at_10(index, vectors, queries)
        if recall >= _TUNE_RECALL:
            return nprobe, round(recall, 4)
    return nprobes[-1], round(recall, 4)


def save_dense(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load_dense(path: Path, info: dict[str, Any]) -> Any:
    """Read a FAISS index written by ``save_dense`` and apply its search parameters."""
    import faiss

    # One question at a time: OpenMP threads only add overhead (measured 0.6 ms -> 40 ms for
    # exact search over 10k vectors on two busy cores). Builds set their own thread count.
    faiss.omp_set_num_threads(1)
    try:
        index: Any = faiss.read_index(str(path))
    except RuntimeError as exc:  # faiss reports a truncated or garbled file this way
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise IndexCorruptError(
            f"vector index {path} is corrupt ({first[:120]}); rebuild with `citebot index`"
        ) from exc
    if "nprobe" in info:
        index.nprobe = int(info["nprobe"])
    return index


def search_dense(
    index: Any, query: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The ``k`` nearest passages to a unit ``query`` vector: (ids, cosine scores), best first."""
    k = min(k, int(index.ntotal))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep]
