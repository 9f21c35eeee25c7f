"""Smoke test of ``citebot bench`` on a tiny size, with the fake embedder and no ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bot.__main__ as cli
from index.bench import BenchConfig, Models, parse_sizes, report_lines, run_bench
from index.bench_data import grown_counts, grown_documents, load_seed, seed_documents
from index.errors import ConfigError
from index.lexical import TermCounts

from .fakes import CORPUS, FakeEmbedder

SIZE_KEYS = ("p50_ms", "p95_ms", "baseline_p50_ms", "recall_at_10", "rss_mb", "speedup_p50")
TOP_KEYS = (
    "cold_start_s",
    "import_s",
    "index_docs_per_s",
    "baseline_index_docs_per_s",
    "incremental_fraction",
)


def test_bench_runs_on_a_tiny_size(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    config = BenchConfig(
        sizes=(2000,),
        questions=200,
        work=tmp_path / "bench",
        corpus=CORPUS,
        ircoll=tmp_path / "no-shared",
        index_docs=12,
        incremental_docs=200,
        repeats=1,
    )
    result = run_bench(config, Models(fake, fake, fake, None), lambda _: None)
    data = json.loads(json.dumps(result.to_json()))
    size = data["sizes"]["2000"]
    for key in SIZE_KEYS:
        assert isinstance(size[key], int | float), key
    assert size["recall_at_10"] == 1.0  # exact search below the threshold
    assert size["rss_mb"] > 0 and size["p50_ms"] > 0
    for key in TOP_KEYS:
        assert isinstance(data[key], int | float) and data[key] > 0, key
    assert data["questions"] == 200
    lines = report_lines(result)
    assert "sizes.2000.p50_ms: " + str(size["p50_ms"]) in lines
    assert any(line.startswith("incremental_fraction: ") for line in lines)


def test_grown_passages_keep_their_source_words(tmp_path: Path) -> None:
    seed = load_seed(seed_documents(CORPUS, None, 10_000), FakeEmbedder(), tmp_path, print)
    n = 3 * len(seed.pieces) + 7
    infos, texts, rows = grown_documents(seed, n, __import__("random").Random(0))
    direct = TermCounts.of([f"{infos[d].title}\n{texts[d][s:e]}" for d, s, e, _ in rows.tolist()])
    grown = grown_counts(seed, n)
    assert np.array_equal(direct.doc_lengths, grown.doc_lengths)
    assert len(direct.terms) == len(grown.terms)
    assert rows[-1, 0] == len(infos) - 1 and len(texts) == len(infos)


def test_sizes_are_parsed_and_checked() -> None:
    assert parse_sizes("100000,10000") == (10_000, 100_000)
    with pytest.raises(ConfigError):
        parse_sizes("ten")
    with pytest.raises(ConfigError):
        parse_sizes("0")


def test_cli_has_the_bench_command() -> None:
    args = cli.build_parser().parse_args(["bench", "--sizes", "2000", "--json"])
    assert args.command == "bench" and args.sizes == "2000" and args.json
