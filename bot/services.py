"""Everything handlers need, built once by ``build_application`` and kept in ``bot_data``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext

from .buttons import AnswerStore, ButtonCodec
from .config import Settings
from .engine import Engine
from .feedback import FeedbackLog
from .ratelimit import RateLimiter

KEY = "citebot"
INLINE_RATE_FACTOR = 6  # inline queries arrive as the user types: allow more of them


@dataclass(slots=True)
class Services:
    """The bot's dependencies: settings, the engine and the small stores around it."""

    settings: Settings
    engine: Engine
    codec: ButtonCodec
    answers: AnswerStore
    limiter: RateLimiter
    inline_limiter: RateLimiter
    feedback: FeedbackLog
    example: str | None = None  # cached /start example; reset when the index is rebuilt

    @classmethod
    def create(cls, settings: Settings, engine: Engine) -> Services:
        return cls(
            settings=settings,
            engine=engine,
            codec=ButtonCodec(),
            answers=AnswerStore(),
            limiter=RateLimiter(settings.rate_limit_per_minute),
            inline_limiter=RateLimiter(settings.rate_limit_per_minute * INLINE_RATE_FACTOR),
            feedback=FeedbackLog(settings.feedback_log),
        )


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """The ``Services`` of the running application (from ``context.bot_data``)."""
    found = context.bot_data.get(KEY)
    if not isinstance(found, Services):
        raise RuntimeError("bot_data holds no Services: build the app with build_application()")
    return found
