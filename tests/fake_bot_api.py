"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real bot.

It speaks the Bot API's HTTP protocol (``POST /bot<TOKEN>/<method>``, form or JSON bodies,
``{"ok": ..., "result": ...}`` replies) well enough for python-telegram-bot: long polling with
``getUpdates``, ``sendMessage``/``editMessageText`` validated like Telegram validates them
(4096 characters after entity parsing, strict HTML, 64-byte callback data), callback and
inline answers. Tests push updates (``message``, ``press``, ``inline``...), inject faults
(``fail``), and wait for what the bot sent (``wait_for``), never sleeping.

It runs in its own thread (``http.server.ThreadingHTTPServer``), so it works the same for a
bot in the test's event loop, in a subprocess, or in the benchmark.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs

T = TypeVar("T")

TOKEN = "123456789:AAFakeTokenForTestsOnly-xyz_0123456789"
BOT_ID = 123456789
BOT_USERNAME = "citebot_test_bot"
MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_JSON_FIELDS = {
    "reply_markup",
    "results",
    "commands",
    "allowed_updates",
    "reply_parameters",
    "link_preview_options",
    "entities",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_ENTITY_TEXT = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class ParseError(ValueError):
    """Telegram's "can't parse entities" for text sent with parse_mode HTML."""


def parse_html(text: str) -> str:
    """The plain text Telegram would show for ``text`` in HTML mode, or ``ParseError``."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if not m:
                raise ParseError(f"Unexpected character '<' at byte offset {i}")
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in ALLOWED_TAGS:
                raise ParseError(f'Unsupported start tag "{name}" at byte offset {i}')
            if closing:
                if not stack or stack[-1] != name:
                    raise ParseError(
                        f'Unmatched end tag at byte offset {i}, expected "</'
                        f'{stack[-1] if stack else ""}>", found "</{name}>"'
                    )
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise ParseError(f"Unexpected character '&' at byte offset {i}")
            name = m.group(1)
            if name.startswith("#x"):
                out.append(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                out.append(chr(int(name[1:])))
            else:
                out.append(_ENTITY_TEXT[name])
            i = m.end()
        elif ch == ">":
            raise ParseError(f"Unexpected character '>' at byte offset {i}")
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Fault:
    """What to do instead of answering a call normally."""

    status: int = 200
    body: bytes | None = None  # raw body; None: a JSON error built from status/description
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0  # seconds to wait first (a time-out when longer than the client's)
    drop: bool = False  # close the connection without any answer
    then_process: bool = False  # after the delay, handle the call normally

    @classmethod
    def too_many_requests(cls, retry_after: int = 1) -> Fault:
        return cls(
            429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )

    @classmethod
    def forbidden(cls) -> Fault:
        return cls(403, description="Forbidden: bot was blocked by the user")

    @classmethod
    def parse_error(cls) -> Fault:
        return cls(
            400,
            description="Bad Request: can't parse entities: Unsupported start tag "
            '"x" at byte offset 0',
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status, description="Internal Server Error")

    @classmethod
    def garbage(cls, status: int = 200) -> Fault:
        return cls(status, body=b"<html><body>502 Bad Gateway</body></html>\x00\xff")

    @classmethod
    def timeout(cls, delay: float) -> Fault:
        return cls(delay=delay, drop=True)


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Sent:
    """A message the bot sent (or edited), as stored by the fake server."""

    chat_id: int
    message_id: int
    html: str  # the text as sent (HTML source, or plain text)
    text: str  # what a user sees
    parse_mode: str | None
    reply_to: int | None
    reply_markup: dict[str, Any] | None
    at: float
    edits: int = 0

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def button(self, label: str) -> dict[str, Any]:
        for b in self.buttons():
            if label in b["text"]:
                return b
        raise KeyError(f"no button {label!r} in {[b['text'] for b in self.buttons()]}")


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    pushed_at: dict[int, float] = field(default_factory=dict)
    fetched: set[int] = field(default_factory=set)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    inline_answers: list[dict[str, Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # setWebhook calls (url, secret)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (method, description)


class FakeBotApi:
    """The fake server; use as a context manager or call ``start``/``stop``."""

    def __init__(self, token: str = TOKEN, max_poll: float = 1.0) -> None:
        self.token = token
        self.max_poll = max_poll  # cap on long-poll waits, so shutdowns are quick
        self.state = _State()
        self.cond = threading.Condition()
        self._ids = itertools.count(1)
        self._msg_ids: dict[int, itertools.count[int]] = {}
        self._closing = False
        ThreadingHTTPServer.request_queue_size = 128  # a burst opens many connections at once
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The Bot API base URL in python-telegram-bot's ``base_url`` form."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self._closing = True
            self.cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests do -------------------------------------------------------------------------
    def fail(self, method: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``fault``."""
        with self.cond:
            self.state.faults.setdefault(method, deque()).extend([fault] * times)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sending to their chat gives 403."""
        with self.cond:
            self.state.blocked.add(user_id)

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._msg_ids.setdefault(chat_id, itertools.count(1)))

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update (its ``update_id`` is filled in) and return the id."""
        with self.cond:
            uid = next(self._ids)
            self.state.updates.append({"update_id": uid, **update})
            self.state.pushed_at[uid] = time.perf_counter()
            self.cond.notify_all()
        return uid

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def make_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user's message (not queued)."""
        chat_id = user_id if chat_id is None else chat_id
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{user_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        with self.cond:
            mid = self._next_message_id(chat_id)
        msg: dict[str, Any] = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id),
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                cmd = text.split()[0]
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(cmd)}]
        if entities is not None:
            msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        msg.update(extra or {})
        return msg

    def message(
        self, user_id: int, text: str | None = None, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        """Queue a message from ``user_id``; returns (update id, message)."""
        kind = kw.pop("kind", "message")
        msg = self.make_message(user_id, text, **kw)
        return self.push({kind: msg}), msg

    def press(self, user_id: int, sent: Sent, data: str) -> int:
        """Queue a press on a button (with ``data``) under a message the bot sent."""
        message = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private" if sent.chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Citebot"},
            "text": sent.text,
        }
        return self.push(
            {
                "callback_query": {
                    "id": f"cb{next(self._ids)}",
                    "from": self.user(user_id),
                    "chat_instance": "ci",
                    "message": message,
                    "data": data,
                }
            }
        )

    def inline(self, user_id: int, query: str) -> int:
        """Queue an inline query ``@bot query`` typed by ``user_id``."""
        return self.push(
            {
                "inline_query": {
                    "id": f"iq{next(self._ids)}",
                    "from": self.user(user_id),
                    "query": query,
                    "offset": "",
                }
            }
        )

    def wait_for(self, predicate: Callable[[_State], T | None], timeout: float = 10.0) -> T:
        """Block until ``predicate(state)`` is truthy and return it; AssertionError on time-out."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                result = predicate(self.state)
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout} s; calls: "
                        f"{[c.method for c in self.state.calls][-20:]}"
                    )
                self.cond.wait(left)

    def replies(self, chat_id: int, reply_to: int | None = None) -> list[Sent]:
        with self.cond:
            return [
                s
                for s in self.state.sent
                if s.chat_id == chat_id and (reply_to is None or s.reply_to == reply_to)
            ]

    def wait_reply(
        self, chat_id: int, reply_to: int | None = None, n: int = 1, timeout: float = 10.0
    ) -> list[Sent]:
        """Wait until the bot has sent ``n`` messages to ``chat_id`` (replying to ``reply_to``)."""
        return self.wait_for(
            lambda s: (
                (
                    r := [
                        m
                        for m in s.sent
                        if m.chat_id == chat_id and (reply_to is None or m.reply_to == reply_to)
                    ]
                )
                and len(r) >= n
                and r
            ),
            timeout,
        )

    def calls(self, method: str) -> list[Call]:
        with self.cond:
            return [c for c in self.state.calls if c.method == method]

    def idle(self, timeout: float = 10.0) -> None:
        """Wait until every queued update was fetched and the bot is polling again."""

        def done(s: _State) -> bool:
            pending = [u["update_id"] for u in s.updates if u["update_id"] not in s.fetched]
            last = s.calls[-1] if s.calls else None
            return not pending and last is not None and last.method == "getUpdates"

        self.wait_for(done, timeout)

    # -- the HTTP side -------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else 40 ms delayed-ACK stalls per reply

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = api._dispatch(
                    self.path, self.headers.get("Content-Type", ""), body
                )
                if payload is None:  # drop the connection without answering
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (its time-out)
                    self.close_connection = True

        return Handler

    def _dispatch(self, path: str, ctype: str, body: bytes) -> tuple[int, bytes | None]:
        m = re.fullmatch(r"/bot([^/]+)/(\w+)", path.split("?")[0])
        if not m or m.group(1) != self.token:
            return 401, _error(401, "Unauthorized")
        method = m.group(2)
        params = _params(ctype, body)
        with self.cond:
            self.state.calls.append(Call(method, params, time.perf_counter()))
            faults = self.state.faults.get(method)
            fault = faults.popleft() if faults else None
            self.cond.notify_all()
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return 0, None
            if not fault.then_process:
                if fault.body is not None:
                    return fault.status, fault.body
                return fault.status, _error(fault.status, fault.description, fault.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return 404, _error(404, "Not Found: method not found")
        try:
            return 200, json.dumps({"ok": True, "result": handler(params)}).encode()
        except _ApiError as exc:
            with self.cond:
                self.state.refused.append((method, exc.description))
                self.cond.notify_all()
            return exc.status, _error(exc.status, exc.description)

    def _me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Citebot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _m_getMe(self, p: dict[str, Any]) -> Any:
        return self._me()

    def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        return True

    def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        url = str(p.get("url") or "")
        if url and not url.startswith("https://"):
            raise _ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self.cond:
            self.state.webhooks.append(p)
            self.cond.notify_all()
        return True

    def _m_close(self, p: dict[str, Any]) -> Any:
        return True

    def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        with self.cond:
            self.state.commands = list(p.get("commands") or [])
        return True

    def _m_sendChatAction(self, p: dict[str, Any]) -> Any:
        return True

    def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        wait = min(float(p.get("timeout") or 0), self.max_poll)
        limit = int(p.get("limit") or 100)
        deadline = time.monotonic() + wait
        with self.cond:
            if offset:
                self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
            while not self.state.updates and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            batch = self.state.updates[:limit]
            self.state.fetched.update(u["update_id"] for u in batch)
            self.cond.notify_all()
            return batch

    def _check_text(self, p: dict[str, Any]) -> tuple[str, str]:
        html = str(p.get("text") or "")
        mode = p.get("parse_mode")
        if mode not in (None, "", "HTML"):
            raise _ApiError(400, f"Bad Request: unsupported parse_mode {mode}")
        try:
            text = parse_html(html) if mode == "HTML" else html
        except ParseError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MESSAGE_LIMIT:
            raise _ApiError(400, "Bad Request: message is too long")
        _check_markup(p.get("reply_markup"))
        return html, text

    def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id = int(p["chat_id"])
        html, text = self._check_text(p)
        with self.cond:
            if chat_id in self.state.blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            reply = p.get("reply_parameters") or {}
            sent = Sent(
                chat_id,
                self._next_message_id(chat_id),
                html,
                text,
                p.get("parse_mode"),
                reply.get("message_id"),
                p.get("reply_markup"),
                time.perf_counter(),
            )
            self.state.sent.append(sent)
            self.cond.notify_all()
        return self._message_json(sent)

    def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        html, text = self._check_text(p)
        with self.cond:
            for sent in self.state.sent:
                if sent.chat_id == chat_id and sent.message_id == message_id:
                    if sent.html == html and sent.reply_markup == p.get("reply_markup"):
                        raise _ApiError(400, "Bad Request: message is not modified")
                    sent.html, sent.text, sent.parse_mode = html, text, p.get("parse_mode")
                    sent.reply_markup = p.get("reply_markup")
                    sent.edits += 1
                    self.cond.notify_all()
                    return self._message_json(sent)
        raise _ApiError(400, "Bad Request: message to edit not found")

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        with self.cond:
            self.state.callback_answers.append(p)
            self.cond.notify_all()
        return True

    def _m_answerInlineQuery(self, p: dict[str, Any]) -> Any:
        results = p.get("results") or []
        if len(results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        for r in results:
            if not 1 <= len(str(r.get("id", "")).encode()) <= 64:
                raise _ApiError(400, "Bad Request: RESULT_ID_INVALID")
            content = r.get("input_message_content") or {}
            self._check_text(
                {"text": content.get("message_text"), "parse_mode": content.get("parse_mode")}
            )
        with self.cond:
            self.state.inline_answers.append(p)
            self.cond.notify_all()
        return True

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        chat: dict[str, Any] = {
            "id": sent.chat_id,
            "type": "private" if sent.chat_id > 0 else "group",
        }
        msg: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Citebot",
                "username": BOT_USERNAME,
            },
            "text": sent.text,
        }
        if sent.reply_markup:
            msg["reply_markup"] = sent.reply_markup
        return msg


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_LIMIT:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


def _error(status: int, description: str, retry_after: int | None = None) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return json.dumps(body).encode()


def _params(ctype: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if "json" in ctype:
        data = json.loads(body)
        return data if isinstance(data, dict) else {}
    out: dict[str, Any] = {}
    for key, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
        value: Any = values[-1]
        if key in _JSON_FIELDS:
            value = json.loads(value)
        out[key] = value
    return out


def iter_sent(api: FakeBotApi) -> Iterator[Sent]:
    with api.cond:
        yield from list(api.state.sent)
