"""What the bot does for each kind of request; handlers parse updates and call these.

Each function takes the ``Services`` and plain values (chat id, question, ...) and talks to
Telegram only through ``sending``, so every reply gets the same retries and fallbacks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ExtBot

from index import Answer, CitebotError, Hit, QuestionError

from . import telegram_render as tr
from .buttons import AnswerRecord, Kind
from .engine import ReindexResult
from .examples import example_question
from .ratelimit import Verdict
from .render import excerpt
from .sending import deliver, edit_html, send_html
from .services import Services

log = logging.getLogger(__name__)

MORE_PAGE = 5
MAX_PASSAGES = 50
INLINE_RESULTS = 50  # Telegram's maximum number of inline results
SOURCES_PER_PAGE = 10
REBUILDING = "Rebuilding the index in the background; I keep answering meanwhile."
EXPIRED = "This button has expired. Ask the question again."
SLOW_DOWN = "You're asking faster than I can answer. Please wait {s} seconds and ask again."


async def answer_question(
    svc: Services, bot: ExtBot[None], message: Message, question: str
) -> None:
    """Answer ``question`` (asked in ``message``) with a quote, sources and buttons."""
    chat_id = message.chat_id
    thread = message.message_thread_id if message.is_topic_message else None
    user_id = message.from_user.id if message.from_user else chat_id

    async def reply(html: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
        return await send_html(
            bot, chat_id, html, reply_to=message.message_id, markup=markup, thread_id=thread
        )

    verdict = svc.limiter.check(user_id)
    if verdict is not Verdict.ALLOW:
        if verdict is Verdict.WARN:
            wait = max(1, round(svc.limiter.retry_in(user_id)))
            await reply(tr.esc(SLOW_DOWN.format(s=wait)))
        return
    started = time.perf_counter()
    try:
        answer = await svc.engine.ask(question, svc.settings.top_k)
    except QuestionError as exc:
        await reply(tr.esc(_sentence(str(exc))))
        return
    key = svc.answers.add(
        AnswerRecord(
            question=question.strip(),
            chat_id=chat_id,
            found=answer.found,
            quote=answer.quote,
            shown=len(answer.hits),
            passages=tuple((h.chunk.doc_id, h.chunk.start) for h in answer.hits),
        )
    )
    messages = tr.answer_messages(answer)
    for html in messages[:-1]:
        await reply(html)
    await reply(messages[-1], answer_keyboard(svc, key, answer))
    await svc.feedback.record(
        "question",
        user=user_id,
        chat=chat_id,
        chat_type=message.chat.type,
        question=question.strip(),
        found=answer.found,
        quote_doc=answer.quote.doc_id if answer.quote else None,
        doc_ids=[h.doc.id for h in answer.hits],
        key=key,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def answer_keyboard(svc: Services, key: str, answer: Answer) -> InlineKeyboardMarkup:
    """More passages / full paragraph / 👍 👎 under an answer."""
    c = svc.codec
    first = []
    if answer.hits:
        first.append(
            InlineKeyboardButton(
                "More passages", callback_data=c.encode(Kind.MORE, key, str(len(answer.hits)))
            )
        )
    if answer.quote is not None:
        first.append(
            InlineKeyboardButton("Full paragraph", callback_data=c.encode(Kind.PARAGRAPH, key, "0"))
        )
    votes = [
        InlineKeyboardButton("👍", callback_data=c.encode(Kind.VOTE, key, "u")),
        InlineKeyboardButton("👎", callback_data=c.encode(Kind.VOTE, key, "d")),
    ]
    return InlineKeyboardMarkup([first, votes] if first else [votes])


async def press(svc: Services, bot: ExtBot[None], query: CallbackQuery) -> None:
    """Act on a button press; forged, stale or evicted buttons get "expired"."""
    decoded = svc.codec.decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if decoded is None or message is None:
        await _toast(query, EXPIRED)
        return
    if decoded.kind is Kind.SOURCES:
        await _toast(query, None)
        await show_sources(svc, bot, message.chat_id, int(decoded.arg), edit=message.message_id)
        return
    record = svc.answers.get(decoded.key)
    if record is None or record.chat_id != message.chat_id:
        await _toast(query, EXPIRED)
        return
    if decoded.kind is Kind.VOTE:
        vote = "up" if decoded.arg == "u" else "down"
        await svc.feedback.record(
            "feedback",
            user=query.from_user.id,
            chat=message.chat_id,
            vote=vote,
            question=record.question,
            found=record.found,
            key=decoded.key,
        )
        await _toast(query, "Thanks for the feedback!")
    elif decoded.kind is Kind.MORE:
        await more_passages(svc, bot, query, message, decoded.key, record, int(decoded.arg))
    else:
        await full_paragraph(svc, bot, query, message, record)


async def _toast(query: CallbackQuery, text: str | None) -> None:
    try:
        await deliver(lambda: query.answer(text), "answerCallbackQuery")
    except Exception as exc:  # the spinner stops by itself; never fail a press on this
        log.info("could not answer a callback query: %s", exc)


async def more_passages(
    svc: Services,
    bot: ExtBot[None],
    query: CallbackQuery,
    message: Message,
    key: str,
    record: AnswerRecord,
    shown: int,
) -> None:
    """Send the next passages for the question behind ``record``, with a further button."""
    verdict = svc.limiter.check(query.from_user.id)
    if verdict is not Verdict.ALLOW:
        await _toast(
            query, SLOW_DOWN.format(s=max(1, round(svc.limiter.retry_in(query.from_user.id))))
        )
        return
    if shown >= MAX_PASSAGES:
        await _toast(query, "That's all the passages I show for one question.")
        return
    hits = await next_passages(svc, record, shown)
    if not hits:
        await _toast(query, "No more passages.")
        return
    await _toast(query, None)
    record.shown = max(record.shown, shown + len(hits))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "More passages",
                    callback_data=svc.codec.encode(Kind.MORE, key, str(shown + len(hits))),
                )
            ]
        ]
    )
    messages = tr.more_messages(hits, shown + 1)
    for i, html in enumerate(messages):
        last = i == len(messages) - 1
        await send_html(
            bot, message.chat_id, html, reply_to=message.message_id, markup=markup if last else None
        )


async def next_passages(svc: Services, record: AnswerRecord, shown: int) -> list[Hit]:
    """Passages ``shown`` to ``shown + MORE_PAGE`` of the question's list.

    The list is the answer's own passages (the quote's first, then the others in search
    order), followed by the further search results; so no passage is skipped or repeated even
    though the answer moved the quote's passage, maybe from beyond the top k, to the front.
    """
    want = min(shown + MORE_PAGE, MAX_PASSAGES)
    found = await svc.engine.search(record.question, want)
    first = set(record.passages)
    rest = [h for h in found if (h.chunk.doc_id, h.chunk.start) not in first]
    return rest[max(0, shown - len(record.passages)) : max(0, want - len(record.passages))]


async def full_paragraph(
    svc: Services, bot: ExtBot[None], query: CallbackQuery, message: Message, record: AnswerRecord
) -> None:
    """Send the paragraph of the source document that contains the quote."""
    quote = record.quote
    doc = svc.engine.document(quote.doc_id) if quote else None
    if quote is None or doc is None:
        await _toast(query, EXPIRED)
        return
    text = await svc.engine.text(quote.doc_id)
    start = quote.start if text[quote.start : quote.end] == quote.text else text.find(quote.text)
    if start < 0:  # the document changed since (a rebuilt index): the quote is gone
        await _toast(query, EXPIRED)
        return
    paragraph = tr.paragraph_around(text, start, start + len(quote.text))
    await _toast(query, None)
    for html in tr.paragraph_messages(doc, paragraph):
        await send_html(bot, message.chat_id, html, reply_to=message.message_id)


async def show_sources(
    svc: Services,
    bot: ExtBot[None],
    chat_id: int,
    page: int,
    edit: int | None = None,
    reply_to: int | None = None,
) -> None:
    """A page of the document list, with ◀ ▶ buttons when there are several pages."""
    html, pages = tr.sources_page(svc.engine.sources(), page, SOURCES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                "◀", callback_data=svc.codec.encode(Kind.SOURCES, "-", str(page - 1))
            )
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(
                "▶", callback_data=svc.codec.encode(Kind.SOURCES, "-", str(page + 1))
            )
        )
    markup = InlineKeyboardMarkup([nav]) if nav else None
    if edit is None:
        await send_html(bot, chat_id, html, markup=markup, reply_to=reply_to)
    else:
        await edit_html(bot, chat_id, edit, html, markup)


async def show_source(
    svc: Services, bot: ExtBot[None], chat_id: int, doc_id: str, reply_to: int | None = None
) -> None:
    """A document's metadata and opening; ``doc_id`` is only ever a key into the index."""
    doc = svc.engine.document(doc_id) if doc_id else None
    if doc is None:
        shown = tr.esc(tr.trim(doc_id, 200))
        text = (
            f"There is no document with the id <code>{shown}</code>. /sources lists them."
            if doc_id
            else "Usage: /source ID (the ids are in /sources)."
        )
        await send_html(bot, chat_id, text, reply_to=reply_to)
        return
    opening = (await svc.engine.text(doc.id))[: tr.OPENING_CHARS * 2]
    await send_html(bot, chat_id, tr.source_message(doc, opening), reply_to=reply_to)


async def start(
    svc: Services, bot: ExtBot[None], chat_id: int, reply_to: int | None = None
) -> None:
    """The welcome message, with an example question checked against the index."""
    if svc.example is None:
        svc.example = await svc.engine.run(example_question) or ""
    await send_html(bot, chat_id, tr.start_message(svc.example or None), reply_to=reply_to)


async def reindex(
    svc: Services,
    bot: ExtBot[None],
    chat_id: int,
    job: Coroutine[Any, Any, ReindexResult],
    reply_to: int | None = None,
) -> None:
    """Announce the rebuild ``job`` (claimed by ``Engine.start_reindex``), run it, report it."""
    try:
        await send_html(bot, chat_id, REBUILDING, reply_to=reply_to)
    except TelegramError as exc:  # the rebuild is claimed: it must run even if we cannot say so
        log.warning("could not announce the rebuild: %s", exc)
    result = await job
    if result.ok:
        svc.example = None
        text = f"Index rebuilt in {result.seconds:.1f} s and now in use: {result.message}"
    else:
        text = f"Rebuilding the index failed, so the old index stays in use: {result.message}"
    await send_html(bot, chat_id, tr.esc(tr.trim(text, tr.MESSAGE_LIMIT)))


async def inline_results(svc: Services, user_id: int, query: str) -> list[InlineQueryResultArticle]:
    """Result cards for an inline query: the quote first, then the passages (≤ 50)."""
    if not query.strip() or svc.inline_limiter.check(user_id) is not Verdict.ALLOW:
        return []
    try:
        answer = await svc.engine.ask(query, svc.settings.top_k)
    except CitebotError:
        return []
    cards: list[tuple[str, int]] = []
    if answer.quote is not None and answer.quote.hit_rank < len(answer.hits):
        cards.append((answer.quote.text, answer.quote.hit_rank))
    cards += [(excerpt(h.chunk.text, 600), i) for i, h in enumerate(answer.hits)]
    results = []
    for n, (text, rank) in enumerate(cards[:INLINE_RESULTS]):
        hit = answer.hits[rank]
        results.append(
            InlineQueryResultArticle(
                id=str(n),
                title=tr.inline_title(text),
                description=tr.inline_description(hit),
                input_message_content=InputTextMessageContent(
                    tr.inline_card(text, hit), parse_mode=ParseMode.HTML
                ),
            )
        )
    await svc.feedback.record(
        "inline", user=user_id, question=query.strip(), found=answer.found, results=len(results)
    )
    return results
