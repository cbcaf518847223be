"""Process configuration: defaults < `qunyun.toml` < environment variables (`QUNYUN_*`) < flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qunyun.core.errors import SETTINGS_ERROR, ErrorCollector, FieldError, InvalidInput
from qunyun.core.i18n import N_

CONFIG_FILE_ENV = "QUNYUN_CONFIG"
DEFAULT_CONFIG_FILE = "qunyun.toml"


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: float = Field(gt=0)
    burst: float = Field(ge=1)


class PlatformConfig(BaseModel):
    """Delivery limits for one platform: overall and per group (token buckets)."""

    model_config = ConfigDict(extra="forbid")
    platform: RateLimitConfig = RateLimitConfig(rate=30, burst=30)
    group: RateLimitConfig = RateLimitConfig(rate=1, burst=5)
    max_attempts: int = Field(default=6, ge=1)
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_max_s: float = Field(default=600.0, gt=0)


def _default_platforms() -> dict[str, PlatformConfig]:
    fast = RateLimitConfig(rate=1000, burst=1000)
    return {
        "playground": PlatformConfig(platform=fast, group=fast),
        "bridge": PlatformConfig(platform=fast, group=RateLimitConfig(rate=100, burst=100)),
    }


class ConnectionConfig(BaseModel):
    """One connection to a chat platform (a QQ bot through OneBot, a Telegram bot, a WeCom corp).

    `options` are the adapter's own settings, validated by the adapter when it starts.
    """

    model_config = ConfigDict(extra="forbid")
    platform: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=64)
    org: str = "default"  # the organization's slug
    options: dict[str, Any] = Field(default_factory=dict)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Path("data")
    database_url: str | None = None  # default: SQLite in data_dir
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    language: str = "zh_CN"
    log_level: str = "INFO"
    platforms: dict[str, PlatformConfig] = Field(default_factory=_default_platforms)
    connections: list[ConnectionConfig] = Field(default_factory=list)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'qunyun.db').resolve()}"

    def platform(self, name: str) -> PlatformConfig:
        return self.platforms.get(name) or PlatformConfig()


_ENV_KEYS = {
    "QUNYUN_DATA_DIR": "data_dir",
    "QUNYUN_DATABASE_URL": "database_url",
    "QUNYUN_HOST": "host",
    "QUNYUN_PORT": "port",
    "QUNYUN_TIMEZONE": "timezone",
    "QUNYUN_LANGUAGE": "language",
    "QUNYUN_LOG_LEVEL": "log_level",
}


def load_config(path: Path | None = None, env: dict[str, str] | None = None,
                **overrides: Any) -> Config:
    """Read the config file (if any), then the environment, then explicit overrides."""
    env = dict(os.environ) if env is None else env
    path = path or Path(env.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput("config file {path} is not valid TOML: {reason}",
                               path=str(path), reason=str(exc)) from exc
    for key, name in _ENV_KEYS.items():
        if env.get(key):
            values[name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    platforms = values.get("platforms")
    if isinstance(platforms, dict):
        values["platforms"] = {**_default_platforms(), **platforms}
    try:
        return Config.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput("invalid configuration", errors=pydantic_errors(exc)) from exc


def pydantic_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """Turn pydantic's errors into our field errors (path, reason)."""
    errors = ErrorCollector()
    for item in exc.errors():
        path = ".".join(str(p) for p in (prefix, *item["loc"]) if p != "")
        reason, params = _reason(item)
        errors.add(path, reason, **params)
    return errors.errors


def _reason(item: Any) -> tuple[str, dict[str, Any]]:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind == "greater_than" and ctx.get("gt") == 0:
        if isinstance(item.get("input"), int):
            return N_("must be a positive integer"), {}
        return N_("must be a positive number"), {}
    if kind == "greater_than":
        return N_("must be greater than {limit}"), {"limit": ctx.get("gt")}
    if kind == "greater_than_equal" and ctx.get("ge") == 0:
        return N_("must not be negative"), {}
    if kind == "greater_than_equal":
        return N_("must be at least {limit}"), {"limit": ctx.get("ge")}
    if kind in ("less_than_equal", "less_than"):
        return N_("must be at most {limit}"), {"limit": ctx.get("le", ctx.get("lt"))}
    if kind == "literal_error":
        return N_("must be one of: {choices}"), {"choices": ctx.get("expected", "")}
    if kind in ("too_short", "string_too_short"):
        return N_("must have at least {limit} items or characters"), {
            "limit": ctx.get("min_length")}
    if kind in ("too_long", "string_too_long"):
        return N_("must have at most {limit} items or characters"), {
            "limit": ctx.get("max_length")}
    if kind == "string_pattern_mismatch":
        return N_("does not match the pattern {pattern}"), {"pattern": ctx.get("pattern")}
    if kind == "unknown_timezone":
        return N_("unknown IANA time zone: {zone}"), {"zone": ctx.get("zone")}
    if kind == SETTINGS_ERROR:
        params = {k: v for k, v in ctx.items() if k != "reason"}
        return str(ctx["reason"]), params
    if kind == "unknown_language":
        return N_("must be one of: {choices}"), {"choices": ctx.get("choices")}
    reasons = {
        "extra_forbidden": N_("unknown key"),
        "missing": N_("is required"),
        "bool_type": N_("must be true or false"),
        "bool_parsing": N_("must be true or false"),
        "int_type": N_("must be an integer"),
        "int_parsing": N_("must be an integer"),
        "string_type": N_("must be a string"),
        "list_type": N_("must be a list"),
        "float_type": N_("must be a number"),
        "float_parsing": N_("must be a number"),
        "dict_type": N_("must be a table"),
        "tuple_type": N_("must be a list"),
        "set_type": N_("must be a list"),
        "model_type": N_("must be a table"),
    }
    if kind in reasons:
        return reasons[kind], {}
    if kind == "value_error":
        return str(ctx.get("error", item["msg"])), {}
    return str(item["msg"]), {}
