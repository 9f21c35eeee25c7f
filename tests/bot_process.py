"""Run the real bot (``run_bot``) in a child process against a fake Bot API, for the tests.

Usage: ``python -m tests.bot_process BASE_URL INDEX_DIR WORK_DIR [DELAY [MODEL]]``. Each question
takes DELAY seconds more to answer, and a file ``WORK_DIR/asking`` appears when one starts, so
the parent can send SIGTERM while an answer is in flight. The index is read with the fake
embedder, or with the sentence-transformers MODEL when one is named (the benchmark).
The other settings come from the environment as usual, e.g. ``CITEBOT_WEBHOOK_URL``,
``CITEBOT_WEBHOOK_LISTEN``, ``CITEBOT_WEBHOOK_PORT`` and ``CITEBOT_WEBHOOK_SECRET`` for
webhook mode.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from bot.app import run_bot
from bot.config import Settings
from index import Answer, Embedder, Retriever, SentenceTransformerEmbedder
from index.store import open_index

from .bot_harness import SpyRetriever
from .fake_bot_api import TOKEN
from .fakes import FakeEmbedder


class MarkingRetriever(SpyRetriever):
    """Touches a file when a question starts, then answers slowly."""

    def __init__(self, base: Retriever, marker: Path, delay: float) -> None:
        super().__init__(base, delay=delay)
        self.marker = marker

    def ask(self, question: str, k: int = 5) -> Answer:
        self.marker.touch()
        return super().ask(question, k)


def main(argv: list[str]) -> int:
    base_url, index, work = argv[0], Path(argv[1]), Path(argv[2])
    delay = float(argv[3]) if len(argv) > 3 else 0.0
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("bot.feedback").setLevel(logging.WARNING)
    embedder: Embedder = FakeEmbedder()
    if len(argv) > 4:
        embedder = SentenceTransformerEmbedder(argv[4])
    base = Retriever(open_index(index, embedder.name), embedder)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_base_url=base_url,
        feedback_log=work / "feedback.jsonl",
    )
    run_bot(settings, MarkingRetriever(base, work / "asking", delay))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
