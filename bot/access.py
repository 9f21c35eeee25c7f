"""Who may use the bot: the allow-lists and the admins."""

from __future__ import annotations

from .config import Settings


def is_allowed(settings: Settings, user_id: int | None, chat_id: int | None) -> bool:
    """Whether an update from ``user_id`` in ``chat_id`` may be answered.

    Everyone is allowed when both allow-lists are empty. Otherwise a listed user (or an admin)
    is allowed anywhere, and anyone is allowed in a listed chat.
    """
    if not settings.allowed_users and not settings.allowed_chats:
        return True
    if user_id is not None and (
        user_id in settings.allowed_users or user_id in settings.admin_users
    ):
        return True
    return chat_id is not None and chat_id in settings.allowed_chats


def is_admin(settings: Settings, user_id: int | None) -> bool:
    """Whether ``user_id`` may run admin commands (``/reindex``)."""
    return user_id is not None and user_id in settings.admin_users
