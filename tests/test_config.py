from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from index import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _env_name(field: str) -> str:
    return field.upper() if field.startswith("telegram_") else f"CITEBOT_{field.upper()}"


def test_env_example_documents_every_setting_with_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = _env_example()
    assert set(example) == {_env_name(f) for f in Settings.model_fields}
    for key in example:
        monkeypatch.delenv(key, raising=False)
    defaults = load_settings(None)
    from_example = load_settings(ROOT / ".env.example")
    assert from_example == defaults


def test_id_lists_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITEBOT_ALLOWED_USERS", "1, 2;3")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    s = load_settings(None, top_k=7, index=Path("/tmp/x"))
    assert s.allowed_users == (1, 2, 3)
    assert s.telegram_bot_token is not None
    assert "123:abc" not in repr(s)
    assert (s.top_k, s.index) == (7, Path("/tmp/x"))


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("CITEBOT_TOP_K", "0", "CITEBOT_TOP_K: Input should be greater than or equal to 1"),
        ("CITEBOT_ADMIN_USERS", "alice", "CITEBOT_ADMIN_USERS: Value error"),
        ("TELEGRAM_BASE_URL", "ftp://x", "TELEGRAM_BASE_URL: Value error, must start with http"),
        ("CITEBOT_LOG_LEVEL", "LOUD", "CITEBOT_LOG_LEVEL: Input should be"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, message: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert str(err.value).startswith(message)


def test_settings_are_frozen() -> None:
    s = load_settings(None)
    with pytest.raises(ValueError, match="frozen"):
        s.top_k = 3  # type: ignore[misc]
