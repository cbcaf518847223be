"""`POST /telegram/{name}/webhook`: Telegram's webhook for the connection `name`.

Telegram sends each update with the secret it was given in `setWebhook` in the header
`X-Telegram-Bot-Api-Secret-Token`; a request without the right one is refused (401) and nothing
is stored. The answer comes once the update's events are durable; a malformed update is
answered 200 with its reason (Telegram would otherwise send it again and again), a storage
failure 500 (Telegram retries later; the repeat is a duplicate with one effect).
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from fastapi import APIRouter, Header, Request

from qunyun.api.bridge_events import read_body
from qunyun.api.deps import RuntimeDep
from qunyun.api.errors import BadRequest
from qunyun.app import telegram as telegram_app  # the module: it may still be loading (cycle)
from qunyun.core.errors import NotFound, Unauthorized
from qunyun.core.i18n import N_

router = APIRouter(tags=["telegram"])
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post("/telegram/{name}/webhook")
async def telegram_webhook(
    name: str, request: Request, runtime: RuntimeDep,
    secret: str | None = Header(default=None, alias=SECRET_HEADER),
) -> dict[str, Any]:
    found = telegram_app.telegram_connection(runtime, name)
    if found is None:
        raise NotFound(N_("no Telegram connection named {name}"), name=name)
    connection, options, adapter = found
    expected = options.webhook_secret or ""
    if not expected or not hmac.compare_digest((secret or "").encode(), expected.encode()):
        raise Unauthorized(N_("wrong or missing Telegram webhook secret"))
    try:
        update = orjson.loads(await read_body(request))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(N_("the update is not JSON ({reason})"), reason=str(exc)) from exc
    outcome = await telegram_app.TelegramInbound(runtime, connection, adapter).handle([update])
    return {
        "results": [r.as_dict("en") for r in outcome.results],
        "rejected": [{"reason": reason} for _, reason in outcome.malformed],
    }
