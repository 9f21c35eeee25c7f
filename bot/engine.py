"""The answer engine as the bot sees it: async calls into a swappable ``Retriever``.

``Retriever`` calls are synchronous and CPU-bound, so they run in a small thread pool and one
slow question never blocks the event loop. ``reindex`` rebuilds the index in its own thread
while questions keep being answered from the current retriever, then swaps the new one in with
a single assignment; when the rebuild fails, the old retriever simply stays.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from index import Answer, BuildSettings, DocInfo, Hit, Retriever, build_index, open_index

from .config import Settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

Rebuild = Callable[[Retriever], tuple[Retriever, str]]


@dataclass(frozen=True, slots=True)
class ReindexResult:
    """How a rebuild went: ``ok`` with the build summary, or the error that kept the old index."""

    ok: bool
    message: str
    seconds: float


class ReindexBusy(Exception):
    """A rebuild is already running."""


def rebuild_from_settings(settings: Settings) -> Rebuild:
    """A rebuild that re-indexes ``settings.corpus`` into ``settings.index`` and reopens it."""

    def rebuild(current: Retriever) -> tuple[Retriever, str]:
        embedder = current.embedder
        build = BuildSettings(settings.chunking, settings.passage_title, settings.max_file_bytes)
        report = build_index(settings.corpus, settings.index, embedder, build)
        return Retriever(open_index(settings.index, embedder.name), embedder), report.summary()

    return rebuild


class Engine:
    """Runs retrieval off the event loop and swaps in rebuilt indexes."""

    def __init__(self, retriever: Retriever, rebuild: Rebuild, workers: int = 2) -> None:
        self._retriever = retriever
        self._rebuild = rebuild
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="citebot-ask")
        self._rebuild_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citebot-index")
        self._rebuilding = False

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    @property
    def rebuilding(self) -> bool:
        return self._rebuilding

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def run(self, fn: Callable[[Retriever], T]) -> T:
        """``fn(retriever)`` in the pool, with the retriever in use now."""
        return await self._run(fn, self._retriever)

    async def ask(self, question: str, k: int) -> Answer:
        """``Retriever.ask`` in the pool (raises ``QuestionError`` for unusable questions)."""
        return await self._run(self._retriever.ask, question, k)

    async def search(self, question: str, k: int) -> list[Hit]:
        """``Retriever.search`` in the pool."""
        return await self._run(self._retriever.search, question, k)

    async def text(self, doc_id: str) -> str:
        """The cleaned text of a document, read in the pool."""
        return await self._run(self._retriever.text, doc_id)

    def sources(self) -> list[DocInfo]:
        return self._retriever.sources()

    def document(self, doc_id: str) -> DocInfo | None:
        return self._retriever.document(doc_id)

    def start_reindex(self) -> Coroutine[Any, Any, ReindexResult]:
        """Claim the rebuild now and return the work, to be awaited (or scheduled) by the caller.

        The claim is synchronous on purpose: a second ``/reindex`` handled before the rebuild's
        task first runs must already see ``rebuilding``, whatever the event loop's order.

        Raises:
            ReindexBusy: Another rebuild is still running.
        """
        if self._rebuilding:
            raise ReindexBusy("a rebuild is already running")
        self._rebuilding = True
        return self._reindex()

    async def reindex(self) -> ReindexResult:
        """Rebuild the index and swap it in; on failure keep answering from the old one.

        Raises:
            ReindexBusy: Another rebuild is still running.
        """
        return await self.start_reindex()

    async def _reindex(self) -> ReindexResult:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            new, summary = await loop.run_in_executor(
                self._rebuild_pool, self._rebuild, self._retriever
            )
        except Exception as exc:
            log.exception("rebuilding the index failed; the old index stays in use")
            return ReindexResult(False, str(exc) or exc.__class__.__name__, _since(started))
        finally:
            self._rebuilding = False
        self._retriever = new  # one assignment: requests see the old or the new index, whole
        log.info("index rebuilt and swapped in: %s", summary)
        return ReindexResult(True, summary, _since(started))

    def close(self) -> None:
        """Stop the worker threads (after waiting for the work in flight)."""
        self._pool.shutdown(wait=True)
        self._rebuild_pool.shutdown(wait=True)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)
