"""A fast embedder: the same model exported to ONNX, run by onnxruntime, no torch at query time.

Importing sentence-transformers (and torch) takes seconds; a ``citebot ask`` process must
not pay that for one question. ``export_onnx`` turns a sentence-transformers model folder
(a BERT-like encoder with mean pooling, as all-MiniLM-L6-v2) into one ONNX graph that
tokenized text goes into and normalized sentence embeddings come out of. It is exported once,
at index time, next to the index, and checked against sentence-transformers on probe texts:
an export whose vectors differ (cosine below 0.9999) is discarded, and the slower embedder
stays in use. Batches are sorted by length, so padding wastes little work.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .embedder import Progress, SentenceTransformerEmbedder, Vectors, resolve_model_path

log = logging.getLogger(__name__)

_PROBES = (
    "How many recommendations did Cambodia accept?",
    "The council approved 12 new parks on Monday, officials said in a statement.",
    "Ein kurzer deutscher Satz mit Umlauten: Grüße aus Köln.",
    "x " * 300,  # longer than the model's maximum length: truncation must match too
)


def onnx_folder(index_root: Path, model: str) -> Path:
    """Where the ONNX export of ``model`` lives for the index at ``index_root``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_")[-80:] or "model"
    return index_root / "onnx" / slug


class OnnxEmbedder:
    """An ``Embedder`` running an exported model with onnxruntime and ``tokenizers``.

    One thread suits questions (one at a time, sharing the cores with search); indexing
    passes ``threads=2``. Batches of 8 length-sorted passages were fastest on this CPU
    (measured on cisi passages: 8: 116, 16: 104, 32: 88, 64: 83 passages/s).
    """

    def __init__(self, folder: Path, threads: int = 1, batch_size: int = 8) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self._name = str(meta["model"])
        self._dim = int(meta["dim"])
        self._batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json may pin padding to a fixed length: pad to the batch's longest instead.
        self._tokenizer.enable_truncation(max_length=int(meta["max_length"]))
        self._tokenizer.no_padding()
        pad_id = int(meta.get("pad_id", 0))
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token=str(meta.get("pad_token", "[PAD]")))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Idle threads must not busy-wait: FAISS, BM25 and other requests share the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # One single-threaded session per worker: whole batches in parallel scale better on
        # small batches than one session splitting each matrix product over threads.
        self._sessions = [
            ort.InferenceSession(
                str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            for _ in range(max(1, threads))
        ]
        self._inputs = [i.name for i in self._sessions[0].get_inputs()]

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def _run(self, texts: Sequence[str], worker: int = 0) -> Vectors:
        encodings = self._tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        out: Vectors = np.asarray(self._sessions[worker].run(None, feed)[0], dtype=np.float32)
        return out

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [
            order[lo : lo + self._batch_size] for lo in range(0, len(order), self._batch_size)
        ]
        workers = len(self._sessions)

        def work(w: int) -> None:
            # onnxruntime and tokenizers release the GIL: the workers really run in parallel.
            for idx in batches[w::workers]:
                out[idx] = self._run([texts[i] for i in idx], w)
                if progress is not None:
                    progress(len(idx))

        if workers == 1:
            work(0)
        else:
            with ThreadPoolExecutor(workers) as pool:
                for future in [pool.submit(work, w) for w in range(workers)]:
                    future.result()
        return out

    def embed_query(self, text: str) -> Vectors:
        vec: Vectors = self._run([text])[0]
        return vec


def export_onnx(model: str, folder: Path, threads: int = 2) -> OnnxEmbedder | None:
    """Export ``model`` to ``folder`` (if not already there) and check it; None if unusable.

    Only sentence-transformers models made of a transformer, mean pooling and (optionally)
    normalization are exported; any other architecture keeps the sentence-transformers
    embedder, which is correct, just slower to start.
    """
    if (folder / "meta.json").is_file():
        try:
            return OnnxEmbedder(folder, threads=threads)
        except Exception:  # a damaged export is simply redone
            log.warning("ONNX export in %s is unusable; exporting again", folder, exc_info=True)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        reference = SentenceTransformerEmbedder(model)
        _export(model, reference, tmp)
        candidate = OnnxEmbedder(tmp)
        ours = candidate.embed(list(_PROBES))
        theirs = reference.embed(list(_PROBES))
        worst = float(np.min(np.sum(ours * theirs, axis=1)))
        if worst < 0.9999:
            log.warning("ONNX export of %s differs (cosine %.5f); not used", model, worst)
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(folder)
        return OnnxEmbedder(folder, threads=threads)
    except Exception:  # export is an optimization: never fail an index build over it
        log.warning("cannot export %s to ONNX; using sentence-transformers", model, exc_info=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return None


def _export(model: str, reference: SentenceTransformerEmbedder, out: Path) -> None:
    import torch

    path = Path(resolve_model_path(model))
    st = reference.model
    modules = [type(m).__name__ for m in st]
    if modules[:2] != ["Transformer", "Pooling"] or not set(modules) <= {
        "Transformer",
        "Pooling",
        "Normalize",
    }:
        raise ValueError(f"unsupported module stack {modules}")
    pooling: Any = st[1]
    if getattr(pooling, "pooling_mode", "mean") not in ("mean", None) and not getattr(
        pooling, "pooling_mode_mean_tokens", False
    ):
        raise ValueError("only mean pooling is exported")
    transformer: Any = st[0]
    encoder = transformer.auto_model.eval()
    tokenizer = transformer.tokenizer

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, *rest: Any) -> Any:
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if rest:
                kwargs["token_type_ids"] = rest[0]
            hidden = self.encoder(**kwargs).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            # Normalized whether or not the model asks for it: the index stores unit vectors.
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = tokenizer(
        ["hello world", "a somewhat longer second sentence"], padding=True, return_tensors="pt"
    )
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    out.mkdir(parents=True)
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "seq"} for n in names}
    axes["sentence_embedding"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes; the result is checked
        torch.onnx.export(
            Pooled().eval(),
            tuple(sample[n] for n in names),
            str(out / "model.onnx"),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )
    shutil.copy(path / "tokenizer.json", out / "tokenizer.json")
    pad_token = tokenizer.pad_token or "[PAD]"
    meta = {
        "model": reference.name,
        "dim": reference.dim,
        "max_length": int(st.max_seq_length or 512),
        "pad_token": pad_token,
        "pad_id": int(tokenizer.convert_tokens_to_ids(pad_token)),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
