"""The process-level figures of ``citebot bench``: imports, cold start, indexing speed.

What each measures is in ``index.bench``'s docstring.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .bench_data import Say, Seed, ircoll_documents
from .bench_probe import REPO, probe_command, subprocess_env
from .build import BuildSettings, build_index, passage_input
from .chunking import chunk_document
from .documents import Document
from .embedder import Embedder
from .loaders import load_corpus

if TYPE_CHECKING:
    from .bench import BenchConfig, Models

# What `citebot ask` imports before it answers (the CLI, search, store with FAISS, the ONNX
# embedder, the stemmer).
_ASK_IMPORTS = (
    "bot.__main__",
    "index.search",
    "index.store",
    "index.onnx_embedder",
    "faiss",
    "onnxruntime",
    "tokenizers",
    "Stemmer",
)


def measure_imports(repeats: int) -> tuple[float, bool]:
    """Median seconds a fresh process takes to import what ``ask`` needs; and whether torch
    came with it (it must not)."""
    code = (
        "import sys, time; t = time.perf_counter(); "
        + "; ".join(f"import {m}" for m in _ASK_IMPORTS)
        + "; print(time.perf_counter() - t, 'torch' in sys.modules)"
    )
    times: list[float] = []
    torch = False
    for _ in range(max(repeats, 1)):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=subprocess_env(),
            cwd=REPO,
            check=True,
        )
        seconds, loaded = done.stdout.split()
        times.append(float(seconds))
        torch = torch or loaded == "True"
    return statistics.median(times), torch


def measure_cold_start(config: BenchConfig, models: Models, work: Path, question: str) -> float:
    """Median seconds from starting ``citebot ask QUESTION`` to its first printed byte.

    The seed corpus is indexed first (incrementally: instant on re-runs). With test models
    (no ONNX export) the serving probe stands in for ``citebot ask``.
    """
    root = work / "seed-index"
    build_index(config.corpus, root, models.indexer, BuildSettings())
    if models.onnx is not None:
        exe = Path(sys.executable).with_name("citebot")
        head = [str(exe)] if exe.is_file() else [sys.executable, "-m", "bot"]
        env_file = str(config.env_file.resolve())
        cmd = [*head, "--env-file", env_file, "ask", question, "--index", str(root)]
    else:
        qfile = work / "cold-question.txt"
        qfile.write_text(question + "\n", encoding="utf-8")
        cmd = probe_command(root, None, qfile, 1)
    times = [_first_output(cmd, REPO, subprocess_env()) for _ in range(max(config.repeats, 1))]
    return statistics.median(times)


def _first_output(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=cwd, env=env)
        assert proc.stdout is not None
        first = proc.stdout.read(1)
        seconds = time.perf_counter() - t
        proc.stdout.read()
        proc.stdout.close()
        code = proc.wait()
        if code != 0 or not first:
            err.seek(0)
            raise RuntimeError(f"{cmd[0]} exited {code}: {err.read().decode()[-500:]}")
    return seconds


def write_corpus(folder: Path, docs: Sequence[Document]) -> Path:
    """Write ``docs`` as raw ``.txt`` files with a title sidecar each (a fresh folder)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i, doc in enumerate(docs):
        (folder / f"{i:05d}.txt").write_text(doc.text, encoding="utf-8")
        (folder / f"{i:05d}.meta.yaml").write_text(
            f"title: {json.dumps(doc.title)}\n", encoding="utf-8"
        )
    return folder


def indexing_documents(config: BenchConfig) -> list[Document]:
    """``index_docs`` documents: ircoll's, or the corpus's repeated without ``../shared``."""
    pool = ircoll_documents(config.ircoll) or list(load_corpus(config.corpus).documents)
    return [pool[i % len(pool)] for i in range(config.index_docs)]


def measure_indexing(
    config: BenchConfig, models: Models, work: Path, say: Say
) -> tuple[float, float]:
    """Documents per second, raw files to saved index: ours and the plain approach.

    The two run in turn, twice (once with ``repeats`` = 1); each keeps its best run, so a
    burst of load from elsewhere on the machine penalizes neither side.
    """
    corpus = write_corpus(work / "index-corpus", indexing_documents(config))
    for embedder in (models.indexer, models.plain):
        embedder.embed(["warm up the model before the clock starts"])
    ours = plain = 0.0
    for _ in range(min(max(config.repeats, 1), 2)):
        root = work / "index-ours"
        shutil.rmtree(root, ignore_errors=True)
        t = time.perf_counter()
        report = build_index(corpus, root, models.indexer, BuildSettings())
        ours = max(ours, report.documents / (time.perf_counter() - t))
        t = time.perf_counter()
        count = plain_index(corpus, work / "index-plain", models.plain)
        plain = max(plain, count / (time.perf_counter() - t))
        say(f"indexing {report.chunks} passages: ours {ours:.1f} docs/s, plain {plain:.1f}")
    return ours, plain


def plain_index(corpus: Path, out: Path, embedder: Embedder) -> int:
    """The tutorial pipeline on the same chunks: encode, ``IndexFlatIP``, save; returns docs."""
    import faiss

    docs = load_corpus(corpus).documents
    chunks = [(d, c) for d in docs for c in chunk_document(d)]
    vectors = embedder.embed([passage_input(d.title, c.text, True) for d, c in chunks])
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    faiss.write_index(index, str(out / "index.faiss"))
    with (out / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for d, c in chunks:
            fh.write(json.dumps({"doc": d.id, "start": c.start, "end": c.end, "text": c.text}))
            fh.write("\n")
    return len(docs)


def measure_incremental(
    config: BenchConfig, models: Models, seed: Seed, work: Path, say: Say
) -> tuple[float, float]:
    """Seconds of re-indexing after one document changed, and of the full build.

    The corpus is ``incremental_docs`` short ``.txt`` documents, one seed passage each.
    """
    n0 = len(seed.pieces)
    docs = [
        Document(id=str(i), text=" ".join(seed.pieces[i % n0]), title=f"Note {i}")
        for i in range(config.incremental_docs)
    ]
    corpus = write_corpus(work / "incremental-corpus", docs)
    root = work / "incremental-index"
    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    build_index(corpus, root, models.indexer, BuildSettings())
    full = time.perf_counter() - t
    changed = corpus / "00000.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + " One sentence was added.")
    t = time.perf_counter()
    report = build_index(corpus, root, models.indexer, BuildSettings())
    incremental = time.perf_counter() - t
    if report.embedded_documents != 1:
        raise RuntimeError(f"incremental build embedded {report.embedded_documents} documents")
    say(f"incremental: {incremental:.2f} s after one change, full build {full:.1f} s")
    return incremental, full
