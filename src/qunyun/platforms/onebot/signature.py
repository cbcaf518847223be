"""HTTP POST authentication: `X-Signature: sha1=HMAC-SHA1(secret, raw body)` and the access
token (`Authorization: Bearer …` or `?access_token=`). Comparisons are constant-time."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())


def bearer(authorization: str | None, query_token: str | None) -> str | None:
    """The token a request offers, from the header or the query string."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() in ("bearer", "token") and token.strip():
            return token.strip()
    return query_token or None


def token_ok(expected: str, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(expected.encode(), offered.encode())
