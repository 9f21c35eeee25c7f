"""Calls to the Bot API that survive Telegram's bad days.

``deliver`` wraps one API call (send, edit, answer) and handles, in one place:

- 429 Too Many Requests: wait ``retry_after`` seconds and try again (a few times);
- time-outs, 5xx and unreadable responses (``NetworkError``/``TelegramError``): retry with a
  short back-off, then give up and let the error handler apologize;
- 403 Forbidden (the user blocked the bot, or it left the group): log and drop, retrying
  cannot help;
- 400 "can't parse entities": resend the same text as plain text, tags removed.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from .telegram_render import to_plain

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4
MAX_RETRY_AFTER = 60.0  # longer waits are abandoned: the user has moved on by then
BACKOFF = (0.2, 0.5, 1.0)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Dropped(Exception):
    """The call was refused for good (403): nothing more to do for this chat."""


def retry_seconds(exc: RetryAfter) -> float:
    """``exc.retry_after`` in seconds, whatever type this python-telegram-bot returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def is_parse_error(exc: BadRequest) -> bool:
    """Whether Telegram refused our HTML (as opposed to any other bad request)."""
    text = exc.message.lower()
    return "can't parse" in text or "can not parse" in text or "unsupported start tag" in text


async def deliver(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run ``call`` with retries on 429, time-outs and server errors.

    Args:
        call: Makes the API request (called again on each attempt).
        what: A few words for the log ("sendMessage to 42").

    Raises:
        Dropped: Telegram answered 403.
        TelegramError: The call kept failing, or failed in a way retrying cannot fix.
    """
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            if last or wait > MAX_RETRY_AFTER:
                raise
            log.warning("%s: flood control, retrying in %.1f s", what, wait)
            await asyncio.sleep(wait)
        except Forbidden as exc:
            log.info("%s: forbidden (%s); dropping", what, exc.message)
            raise Dropped(exc.message) from exc
        except BadRequest:
            raise
        except (NetworkError, TelegramError) as exc:
            if last:
                raise
            log.warning("%s failed (%s); retrying", what, exc)
            await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
    raise AssertionError("unreachable")


async def send_html(
    bot: ExtBot[None],
    chat_id: int,
    html: str,
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
    thread_id: int | None = None,
) -> Message | None:
    """Send an HTML message; fall back to plain text when Telegram cannot parse it.

    Returns:
        The sent message, or None when the chat refuses messages from the bot (403).
    """
    reply = (
        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        if reply_to is not None
        else None
    )

    def send(text: str, mode: str | None) -> Callable[[], Awaitable[Message]]:
        return lambda: bot.send_message(
            chat_id,
            text,
            parse_mode=mode,
            reply_parameters=reply,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
            message_thread_id=thread_id,
        )

    what = f"sendMessage to {chat_id}"
    try:
        try:
            return await deliver(send(html, ParseMode.HTML), what)
        except BadRequest as exc:
            if not is_parse_error(exc):
                raise
            log.warning("%s: HTML refused (%s); resending as plain text", what, exc.message)
            return await deliver(send(to_plain(html), None), what)
    except Dropped:
        return None


async def edit_html(
    bot: ExtBot[None],
    chat_id: int,
    message_id: int,
    html: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Replace a message's text (e.g. the next page of /sources); plain text if HTML fails."""

    def edit(text: str, mode: str | None) -> Callable[[], Awaitable[object]]:
        return lambda: bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=mode,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )

    what = f"editMessageText in {chat_id}"
    try:
        try:
            await deliver(edit(html, ParseMode.HTML), what)
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            if not is_parse_error(exc):
                raise
            await deliver(edit(to_plain(html), None), what)
    except Dropped:
        return
