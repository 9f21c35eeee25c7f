"""The one Settings object: the only place that reads the environment and ``.env``.

Every setting is documented in ``.env.example``. ``load_settings()`` is called once, at the
entry point, and the frozen result is passed down; a bad value stops the program at start
with one clear line (``ConfigError``), never later in the middle of a question.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index import ChunkSettings, ConfigError
from index.embedder import DEFAULT_MODEL

IdList = Annotated[tuple[int, ...], NoDecode]
_CHUNKS = ChunkSettings()


class Settings(BaseSettings):
    """citebot's configuration (environment variables, then ``.env``, then defaults)."""

    model_config = SettingsConfigDict(
        env_prefix="CITEBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    corpus: Path = Path("corpus")
    index: Path = Path("var/index")
    model: str = DEFAULT_MODEL
    onnx: bool = True
    top_k: int = Field(5, ge=1, le=20)
    max_file_mb: float = Field(50.0, gt=0)
    chunk_chars: int = Field(_CHUNKS.target_chars, ge=50, le=20_000)
    chunk_max_chars: int = Field(_CHUNKS.max_chars, ge=50, le=40_000)
    chunk_overlap: int = Field(_CHUNKS.overlap_sentences, ge=0, le=5)
    passage_title: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "CITEBOT_TELEGRAM_BOT_TOKEN")
    )
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_BASE_URL", "CITEBOT_TELEGRAM_BASE_URL"),
    )
    allowed_users: IdList = ()
    allowed_chats: IdList = ()
    admin_users: IdList = ()
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    feedback_log: Path = Path("var/feedback.jsonl")
    rate_limit_per_minute: int = Field(10, ge=1)

    @field_validator("allowed_users", "allowed_chats", "admin_users", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("telegram_bot_token", "webhook_secret", "webhook_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def chunking(self) -> ChunkSettings:
        return ChunkSettings(
            self.chunk_chars, max(self.chunk_max_chars, self.chunk_chars), self.chunk_overlap
        )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read the settings once; raise ``ConfigError`` naming the bad variable.

    Args:
        env_file: The dotenv file to read (None: environment only).
        overrides: Values given on the command line; they win over the environment.
    """
    try:
        return Settings(_env_file=env_file, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[call-arg]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "setting"
        name = (
            field.upper() if field.upper().startswith("TELEGRAM_") else f"CITEBOT_{field.upper()}"
        )
        raise ConfigError(f"{name}: {err['msg']} (got {err.get('input')!r})") from exc
