"""Keep the bot token out of the logs.

Bot API URLs contain the token (``.../bot<TOKEN>/sendMessage``), and httpx logs every request
URL at INFO while python-telegram-bot logs its base URL at DEBUG. The httpx loggers are kept
at WARNING, and a filter on every root handler replaces the token wherever it still appears,
tracebacks included.
"""

from __future__ import annotations

import logging

REDACTED = "<TOKEN>"
QUIET_LOGGERS = ("httpx", "httpcore")


class RedactToken(logging.Filter):
    """Replaces ``token`` in a record's message and traceback text."""

    def __init__(self, token: str) -> None:
        super().__init__("citebot-redact")
        self._token = token
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._token:
            return True
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, REDACTED)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text and self._token in record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, REDACTED)
        return True


def protect_token(token: str, logger: logging.Logger | None = None) -> RedactToken:
    """Silence the URL-logging libraries and redact ``token`` on ``logger``'s handlers.

    Args:
        token: The bot token.
        logger: Whose handlers to filter (default: the root logger).

    Returns:
        The filter, so a caller can remove it again.
    """
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    redactor = RedactToken(token)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redactor)
    return redactor
