"""The real bot against the fake Bot API: what users see, command by command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Retriever

from .bot_harness import bot_settings, running_bot
from .fake_bot_api import FakeBotApi


@pytest.fixture()
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotApi]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with FakeBotApi() as server:
        yield server


async def test_private_question_gets_quote_sources_and_buttons(
    api: FakeBotApi, tmp_path: Path, fake_retriever: Retriever
) -> None:
    async with running_bot(api, bot_settings(api, tmp_path), fake_retriever) as bot:
        reply = await bot.ask(42, "Who is Keo Remy?")
    print(reply.html)
    assert reply.html.startswith("<blockquote>")
