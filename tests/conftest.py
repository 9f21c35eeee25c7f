"""Shared fixtures: a seed-corpus index built with the fake embedder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index import Retriever
from index.store import open_index

from .fakes import CORPUS, FakeEmbedder, build_fake_index

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# python-telegram-bot 22 warns when it builds a RetryAfter (429) unless this is set, and
# pytest turns warnings into errors.
os.environ.setdefault("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seed-corpus index on disk (shared by tests that only read it)."""
    path = tmp_path_factory.mktemp("fake-index")
    build_fake_index(path)
    return path


@pytest.fixture()
def fake_retriever(fake_index: Path) -> Retriever:
    embedder = FakeEmbedder()
    return Retriever(open_index(fake_index, embedder.name), embedder)
