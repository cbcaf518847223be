"""The WeCom callback URL: `/api/v1/wecom/<connection>/callback`.

GET is WeCom's URL check (answer: the decrypted echostr). POST carries an encrypted callback:
the signature is checked, the message decrypted and its receive id compared with the corp id,
then its events are stored before the answer "success" (WeCom waits 5 seconds, then retries; a
retried callback is a duplicate). A forged signature gets 401, a message for another corp 403,
a malformed body 400; in each case nothing is stored. WeCom signs its requests itself, so these
routes take no qunyun token.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from qunyun.api.bridge_events import read_body
from qunyun.api.deps import RuntimeDep
from qunyun.core.errors import NotFound
from qunyun.platforms.wecom import Corp, WecomPlatform
from qunyun.platforms.wecom.callbacks import PLATFORM, envelope_encrypt
from qunyun.platforms.wecom.crypto import BAD_SIGNATURE, WRONG_RECEIVER, CryptoError

router = APIRouter(tags=["wecom"])
log = logging.getLogger(__name__)

STATUS = {BAD_SIGNATURE: 401, WRONG_RECEIVER: 403}


def _corp(runtime: RuntimeDep, name: str) -> Corp:
    platform = runtime.platforms.get(PLATFORM)
    if not isinstance(platform, WecomPlatform) or name not in platform.corps:
        raise NotFound("no WeCom connection {name}", name=name)
    return platform.corps[name]


def _refused(name: str, exc: CryptoError) -> PlainTextResponse:
    log.warning("WeCom callback for %s refused: %s", name, exc.reason)
    return PlainTextResponse(exc.reason, status_code=STATUS.get(exc.code, 400))


@router.get("/wecom/{name}/callback", response_class=PlainTextResponse)
async def verify_url(name: str, runtime: RuntimeDep, msg_signature: str = Query(),
                     timestamp: str = Query(), nonce: str = Query(),
                     echostr: str = Query()) -> PlainTextResponse:
    """WeCom's URL check: answers the decrypted echostr."""
    corp = _corp(runtime, name)
    echostr = echostr.replace(" ", "+")  # a "+" that reached us unencoded (base64 has no spaces)
    try:
        plain = corp.crypto.verify_url(msg_signature, timestamp, nonce, echostr)
    except CryptoError as exc:
        return _refused(name, exc)
    return PlainTextResponse(plain)


@router.post("/wecom/{name}/callback", response_class=PlainTextResponse)
async def receive(name: str, request: Request, runtime: RuntimeDep,
                  msg_signature: str = Query(), timestamp: str = Query(),
                  nonce: str = Query()) -> PlainTextResponse:
    """An encrypted callback: stored, then answered "success"."""
    corp = _corp(runtime, name)
    try:
        encrypted = envelope_encrypt(await read_body(request))
        plain = corp.crypto.decrypt_message(msg_signature, timestamp, nonce, encrypted)
        await corp.receive(plain)
    except CryptoError as exc:
        return _refused(name, exc)
    return PlainTextResponse("success")
