"""The serving probe of ``citebot bench``: a fresh process that opens an index and answers.

``python -m index.bench_probe INDEX QUESTIONS_FILE COUNT [ONNX_FOLDER]`` opens the index with
``open_index``, loads the ONNX embedder (or, for indexes built by test embedders, the model-free
``StandInEmbedder``), answers the first COUNT questions with ``Retriever.ask`` and prints one
JSON line: VmRSS and VmHWM in MB, seconds taken, answers found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .embedder import Embedder, Progress, Vectors
from .store import open_index

REPO = Path(__file__).resolve().parent.parent


class StandInEmbedder:
    """A model-free embedder (random unit vectors seeded by the text) for probing indexes
    built by test embedders in a subprocess; it measures everything but the model."""

    def __init__(self, name: str, dim: int) -> None:
        self._name = name
        self._dim = dim

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        return np.stack([self.embed_query(t) for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        vec = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(self._dim)
        return (vec / np.linalg.norm(vec)).astype(np.float32)


def probe_memory(root: Path, onnx: Path | None, qfile: Path) -> tuple[float, float]:
    """VmRSS and VmHWM (MB) of a fresh process serving the index at ``root``."""
    out = _run_probe(root, onnx, qfile, 20)
    return float(out["rss_mb"]), float(out["peak_rss_mb"])


def probe_command(root: Path, onnx: Path | None, qfile: Path, count: int) -> list[str]:
    """The command of a serving probe (``python -m index.bench_probe``)."""
    cmd = [sys.executable, "-m", "index.bench_probe", str(root), str(qfile), str(count)]
    return [*cmd, str(onnx)] if onnx is not None else cmd


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _run_probe(root: Path, onnx: Path | None, qfile: Path, count: int) -> dict[str, Any]:
    done = subprocess.run(
        probe_command(root, onnx, qfile, count),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"serving probe failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _probe(argv: Sequence[str]) -> int:
    """Subprocess entry: open an index, answer questions, print memory figures as JSON."""
    from .search import Retriever
    from .store import read_manifest

    root, qfile, count = Path(argv[0]), Path(argv[1]), int(argv[2])
    t = time.perf_counter()
    embedder: Embedder
    if len(argv) > 3:
        from .onnx_embedder import OnnxEmbedder

        embedder = OnnxEmbedder(Path(argv[3]), threads=1)
    else:
        _, manifest = read_manifest(root)
        embedder = StandInEmbedder(manifest.model, manifest.dim)
    retriever = Retriever(open_index(root, embedder.name), embedder)
    questions = qfile.read_text(encoding="utf-8").splitlines()[:count]
    answers = [retriever.ask(q, k=5) for q in questions]
    status = _proc_status()
    print(
        json.dumps(
            {
                "rss_mb": status.get("VmRSS", 0.0),
                "peak_rss_mb": status.get("VmHWM", 0.0),
                "seconds": time.perf_counter() - t,
                "found": sum(a.found for a in answers),
            }
        ),
        flush=True,
    )
    return 0


def _proc_status() -> dict[str, float]:
    """VmRSS and VmHWM of this process in MB (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        lines = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"VmRSS": peak, "VmHWM": peak}
    out = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = float(rest.split()[0]) / 1024
    return out


if __name__ == "__main__":
    sys.exit(_probe(sys.argv[1:]))
