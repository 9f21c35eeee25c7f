"""Wiring: ``build_application`` makes the python-telegram-bot ``Application``; ``run_bot`` runs it.

Updates are processed concurrently (one slow question never holds up the others); retrieval
runs in the engine's thread pool. On SIGINT/SIGTERM python-telegram-bot stops polling, waits
for the updates in flight and the background tasks (a rebuild), then shuts down.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from index import ConfigError, Retriever

from . import handlers as h
from .config import Settings
from .engine import Engine, Rebuild, rebuild_from_settings
from .logsafe import protect_token
from .services import KEY, Services

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64
POOL = 16  # connections to the Bot API; httpcore's pool gets slow with many more
POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates call open when there is nothing new
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query"]
COMMANDS = [
    BotCommand("start", "what I am and how to ask"),
    BotCommand("help", "how to ask, and the commands"),
    BotCommand("ask", "ask a question: /ask QUESTION"),
    BotCommand("sources", "the documents I know"),
    BotCommand("source", "a document's details: /source ID"),
]

App = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    retriever: Retriever,
    *,
    rebuild: Rebuild | None = None,
    get_updates_timeout: float = POLL_TIMEOUT + 10,
    read_timeout: float = 10.0,
) -> App:
    """The bot, wired: handlers, the error handler, commands and the services in ``bot_data``.

    Args:
        settings: Must hold a ``telegram_bot_token``.
        retriever: The answer engine; replaced in place by ``/reindex``.
        rebuild: How ``/reindex`` rebuilds (default: index ``settings.corpus`` into
            ``settings.index`` with the retriever's embedder).
        get_updates_timeout: HTTP read timeout of getUpdates; longer than the poll timeout.
        read_timeout: HTTP read timeout of every other call (a timed-out send is retried).

    Raises:
        ConfigError: No token is set.
    """
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env")
    token = settings.telegram_bot_token.get_secret_value()
    engine = Engine(retriever, rebuild or rebuild_from_settings(settings))
    base = settings.telegram_base_url
    app: App = (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(base.replace("/bot", "/file/bot", 1) if base.endswith("/bot") else base)
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(POOL)
        .pool_timeout(10)
        .read_timeout(read_timeout)
        .get_updates_read_timeout(get_updates_timeout)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data[KEY] = Services.create(settings, engine)
    add_handlers(app)
    return app


def add_handlers(app: App) -> None:
    """Register the handlers, most specific first, behind the allow-list gate."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new = filters.UpdateType.MESSAGE
    app.add_handler(TypeHandler(Update, h.gate), group=-1)
    commands = [
        ("start", h.on_start),
        ("help", h.on_help),
        ("ask", h.on_ask),
        ("sources", h.on_sources),
        ("source", h.on_source),
        ("reindex", h.on_reindex),
    ]
    for name, callback in commands:
        app.add_handler(CommandHandler(name, callback, filters=new))
    app.add_handler(MessageHandler(private & new & filters.COMMAND, h.on_unknown_command))
    app.add_handler(
        MessageHandler(
            private & (filters.UpdateType.MESSAGES) & filters.TEXT & ~filters.COMMAND,
            h.on_private_text,
        )
    )
    app.add_handler(
        MessageHandler(groups & new & filters.TEXT & h.AddressedToBot(), h.on_group_mention)
    )
    app.add_handler(MessageHandler(private & new & ~filters.TEXT, h.on_non_text))
    app.add_handler(CallbackQueryHandler(h.on_button))
    app.add_handler(InlineQueryHandler(h.on_inline))
    app.add_error_handler(h.on_error)


async def _post_init(app: App) -> None:
    try:
        await app.bot.set_my_commands(COMMANDS)
    except Exception as exc:  # the menu is a convenience; answering matters more
        log.warning("could not register the bot's commands: %s", exc)


async def _post_shutdown(app: App) -> None:
    svc = app.bot_data.get(KEY)
    if isinstance(svc, Services):
        svc.engine.close()


def run_bot(settings: Settings, retriever: Retriever) -> None:
    """Run the bot until SIGINT/SIGTERM: long polling, or a webhook when ``webhook_url`` is set.

    Args:
        settings: The bot's settings (token, base URL, webhook, lists, limits).
        retriever: The answer engine.
    """
    if settings.webhook_url:
        _require_webhook_support()
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # opt in now; silences a deprecation warning
    if settings.telegram_bot_token is not None:  # before the Bot exists: it logs its URL
        protect_token(settings.telegram_bot_token.get_secret_value())
    app = build_application(settings, retriever)
    if settings.webhook_url:
        secret = settings.webhook_secret
        log.info("citebot: webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=_webhook_path(settings.webhook_url),
            webhook_url=settings.webhook_url,
            secret_token=secret.get_secret_value() if secret else None,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        log.info("citebot: polling %s for updates", settings.telegram_base_url)
        app.run_polling(allowed_updates=ALLOWED_UPDATES, timeout=POLL_TIMEOUT)


def _require_webhook_support() -> None:
    try:
        import tornado  # noqa: F401  (python-telegram-bot's webhook server)
    except ImportError:
        raise ConfigError(
            "CITEBOT_WEBHOOK_URL is set but webhook support is not installed: "
            'pip install "python-telegram-bot[webhooks]", or unset it to use polling'
        ) from None


def _webhook_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")
