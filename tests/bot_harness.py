"""Run the real bot (``build_application``) against the fake Bot API inside a test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.app import App, build_application
from bot.config import Settings
from bot.engine import Rebuild
from bot.services import KEY, Services
from index import Answer, Hit, Retriever

from .fake_bot_api import TOKEN, FakeBotApi, Sent, _State

T = TypeVar("T")


def bot_settings(api: FakeBotApi, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a bot talking to ``api``, ignoring the environment's .env file."""
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_base_url": api.base_url,
        "feedback_log": tmp_path / "feedback.jsonl",
        "rate_limit_per_minute": 1000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Running:
    """A running bot and the fake server it talks to."""

    api: FakeBotApi
    app: App

    @property
    def services(self) -> Services:
        svc = self.app.bot_data[KEY]
        assert isinstance(svc, Services)
        return svc

    async def until(self, predicate: Callable[[_State], T | None], timeout: float = 10.0) -> T:
        """Wait (off the event loop) until ``predicate(state)`` holds."""
        return await asyncio.to_thread(self.api.wait_for, predicate, timeout)

    async def reply(
        self, chat_id: int, reply_to: int | None = None, n: int = 1, timeout: float = 10.0
    ) -> list[Sent]:
        """The first ``n`` messages the bot sent to ``chat_id`` (replying to ``reply_to``)."""
        return await asyncio.to_thread(self.api.wait_reply, chat_id, reply_to, n, timeout)

    async def ask(self, user_id: int, text: str, timeout: float = 10.0, **kw: Any) -> Sent:
        """Send ``text`` as ``user_id`` and return the bot's last reply message to it."""
        _, msg = self.api.message(user_id, text, **kw)
        chat = msg["chat"]["id"]
        replies = await self.reply(chat, msg["message_id"], timeout=timeout)
        return replies[-1]


@asynccontextmanager
async def running_bot(
    api: FakeBotApi,
    settings: Settings,
    retriever: Retriever,
    rebuild: Rebuild | None = None,
    read_timeout: float = 5.0,
) -> AsyncIterator[Running]:
    """Build the application, start polling ``api``, and stop it cleanly afterwards."""
    app = build_application(
        settings, retriever, rebuild=rebuild, get_updates_timeout=5, read_timeout=read_timeout
    )
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0)
        try:
            yield Running(api, app)
        finally:
            await app.updater.stop()
            await app.stop()
    if app.post_shutdown:
        await app.post_shutdown(app)


class SpyRetriever(Retriever):
    """A real retriever that counts questions, and can be slow, fail, or return a fixed answer."""

    def __init__(
        self,
        base: Retriever,
        *,
        delay: float = 0.0,
        fail_on: str | None = None,
        fixed: Answer | None = None,
    ) -> None:
        super().__init__(base.index, base.embedder, base.settings, base.answer_settings)
        self.delay = delay
        self.fail_on = fail_on
        self.fixed = fixed
        self.asked: list[str] = []  # questions (ask)
        self.searched: list[str] = []  # searches, including those made by ask

    def ask(self, question: str, k: int = 5) -> Answer:
        self.asked.append(question)
        if self.fail_on is not None and self.fail_on in question:
            raise RuntimeError(f"boom while answering {question!r}")
        if self.delay:
            time.sleep(self.delay)
        if self.fixed is not None:
            return self.fixed
        return super().ask(question, k)

    def search(self, question: str, k: int = 5) -> list[Hit]:
        self.searched.append(question)
        return super().search(question, k)
