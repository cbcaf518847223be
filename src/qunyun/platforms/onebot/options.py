"""A OneBot connection's options (`[[connections]] platform = "onebot"`, its `options`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class OneBotOptions(BaseModel):
    """`mode`: `forward` (qunyun connects to the implementation's WebSocket server at `url`),
    `reverse` (the implementation connects to `/api/v1/onebot/<name>/ws`), or `http` (it POSTs
    events to `/api/v1/onebot/<name>/events`; qunyun calls its HTTP API at `api_url`)."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["forward", "reverse", "http"] = "forward"
    url: str | None = Field(default=None, pattern=r"^wss?://")
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    access_token: str | None = None
    secret: str | None = None  # HTTP POST: the X-Signature key
    roster_sync: bool = True
    roster_interval_s: float = Field(default=6 * 3600, gt=0)
    reconnect_s: float = Field(default=3.0, gt=0)
    batch_size: int = Field(default=1000, ge=1, le=10_000)

    @model_validator(mode="after")
    def _needs(self) -> OneBotOptions:
        if self.mode == "forward" and not self.url:
            raise ValueError("forward mode needs url (ws://host:port/)")
        if self.mode == "http" and not self.secret and not self.access_token:
            raise ValueError("http mode needs secret or access_token: "
                             "unauthenticated event posts are refused")
        return self
