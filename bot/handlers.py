"""Thin async handlers: read the update, check who is asking, call ``replies``.

Registration order and filters live in ``app.py``; the allow-list check (``gate``) runs
before every other handler, so users outside the lists get nothing and cost no retrieval.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes, filters

from . import replies
from .access import is_admin, is_allowed
from .engine import ReindexBusy
from .sending import Dropped, deliver, send_html
from .services import services
from .telegram_render import HELP

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
TEXT_ONLY = "I can only read text. Send me your question as a message."


class AddressedToBot(filters.MessageFilter):
    """Group messages meant for the bot: replies to it, or mentions of it."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        for entity, text in entities.items():
            if entity.type == MessageEntity.MENTION and text.lower() == mention:
                return True
            if entity.user is not None and entity.user.id == bot.id:
                return True
        return False


def _strip_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


async def gate(update: Update, context: Context) -> None:
    """Stop updates from users and chats outside the allow-lists before any work is done."""
    user = update.effective_user
    chat = update.effective_chat
    if not is_allowed(
        services(context).settings, user.id if user else None, chat.id if chat else None
    ):
        raise ApplicationHandlerStop


async def on_start(update: Update, context: Context) -> None:
    """/start: what the bot is, with an example question."""
    if message := update.effective_message:
        await replies.start(services(context), context.bot, message.chat_id, message.message_id)


async def on_help(update: Update, context: Context) -> None:
    """/help: how to ask and the commands."""
    if message := update.effective_message:
        await send_html(context.bot, message.chat_id, HELP, reply_to=message.message_id)


async def on_private_text(update: Update, context: Context) -> None:
    """A private message (or its edit): the whole text is the question."""
    message = update.effective_message
    if message and message.text is not None:
        await replies.answer_question(services(context), context.bot, message, message.text)


async def on_ask(update: Update, context: Context) -> None:
    """/ask QUESTION, or /ask in reply to a message holding the question."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question and message.reply_to_message and message.reply_to_message.text:
        question = message.reply_to_message.text
    if not question.strip():
        await send_html(
            context.bot,
            message.chat_id,
            "Usage: /ask QUESTION, e.g. <code>/ask Who founded the organisation?</code>",
            reply_to=message.message_id,
        )
        return
    await replies.answer_question(services(context), context.bot, message, question)


async def on_group_mention(update: Update, context: Context) -> None:
    """A group message that mentions or replies to the bot: the rest of it is the question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = _strip_mention(message.text, context.bot.username)
    if not question:
        await send_html(
            context.bot,
            message.chat_id,
            html.escape(f"Ask me a question after @{context.bot.username}, or use /ask."),
            reply_to=message.message_id,
        )
        return
    await replies.answer_question(services(context), context.bot, message, question)


async def on_non_text(update: Update, context: Context) -> None:
    """Stickers, photos and other media in a private chat: explain that only text works."""
    message = update.effective_message
    if message:
        await send_html(context.bot, message.chat_id, TEXT_ONLY, reply_to=message.message_id)


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have (private chats only)."""
    if message := update.effective_message:
        text = "I don't know that command. /help lists mine."
        await send_html(context.bot, message.chat_id, text, reply_to=message.message_id)


async def on_sources(update: Update, context: Context) -> None:
    """/sources [PAGE]: the documents in the index, paged."""
    if message := update.effective_message:
        arg = (context.args or ["1"])[0]
        # not str.isdigit(): it accepts "²", which int() refuses
        page = int(arg) - 1 if re.fullmatch(r"[0-9]{1,6}", arg) else 0
        await replies.show_sources(
            services(context), context.bot, message.chat_id, page, reply_to=message.message_id
        )


async def on_source(update: Update, context: Context) -> None:
    """/source ID: one document's metadata and opening."""
    if message := update.effective_message:
        doc_id = " ".join(context.args or []).strip()
        await replies.show_source(
            services(context), context.bot, message.chat_id, doc_id, message.message_id
        )


async def on_reindex(update: Update, context: Context) -> None:
    """/reindex (admins): rebuild the index in the background and swap it in."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    svc = services(context)

    async def say(text: str) -> None:
        await send_html(context.bot, message.chat_id, text, reply_to=message.message_id)

    if not is_admin(svc.settings, user.id if user else None):
        await say("Only the bot's admins can rebuild the index.")
        return
    try:
        job = svc.engine.start_reindex()  # claimed before any await: no second rebuild slips in
    except ReindexBusy:
        await say("A rebuild is already running.")
        return
    context.application.create_task(
        replies.reindex(svc, context.bot, message.chat_id, job, reply_to=message.message_id),
        update=update,
    )


async def on_button(update: Update, context: Context) -> None:
    """A press on an inline button."""
    if update.callback_query:
        await replies.press(services(context), context.bot, update.callback_query)


async def on_inline(update: Update, context: Context) -> None:
    """@bot QUESTION typed in any chat: result cards that post a quote with its source."""
    query = update.inline_query
    if query is None:
        return
    results = await replies.inline_results(services(context), query.from_user.id, query.query)
    with contextlib.suppress(Dropped):
        await deliver(lambda: query.answer(results, cache_time=30), "answerInlineQuery")


async def on_error(update: object, context: Context) -> None:
    """Log the traceback, tell the user something short, keep running."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(APOLOGY)
        elif update.effective_chat and update.effective_chat.type != ChatType.CHANNEL:
            message = update.effective_message
            await send_html(
                context.bot,
                update.effective_chat.id,
                APOLOGY,
                reply_to=message.message_id if message else None,
            )
    except Exception:
        log.warning("could not send the apology", exc_info=True)
