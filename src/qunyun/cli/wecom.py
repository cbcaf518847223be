"""`qunyun wecom verify-url|decrypt`: check a WeCom callback by hand, with the corp's secrets.

Both print the plaintext, or the reason the callback would be refused (exit status 1).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qunyun.cli.common import console
from qunyun.core.config import load_config
from qunyun.core.i18n import N_, gettext
from qunyun.platforms.wecom.callbacks import envelope_encrypt
from qunyun.platforms.wecom.crypto import (
    BAD_SIGNATURE,
    MALFORMED,
    WRONG_RECEIVER,
    CryptoError,
    WecomCrypto,
)

wecom_app = typer.Typer(help="WeCom (企业微信) callback checks.", no_args_is_help=True)

HEADLINES = {
    BAD_SIGNATURE: N_("Refused: the signature does not match (wrong token, or not sent by "
                      "WeCom)."),
    WRONG_RECEIVER: N_("Refused: the message is for another corp id."),
    MALFORMED: N_("Refused: the payload cannot be read."),
}
BAD_KEY = N_("Refused: the EncodingAESKey is not valid.")

Token = Annotated[str, typer.Option("--token", help="The callback Token.")]
AesKey = Annotated[str, typer.Option("--aes-key", help="The EncodingAESKey (43 characters).")]
CorpId = Annotated[str, typer.Option("--corp-id", help="The corp id (receive id).")]
Signature = Annotated[str, typer.Option("--signature", help="msg_signature from the URL.")]
Timestamp = Annotated[str, typer.Option("--timestamp", help="timestamp from the URL.")]
Nonce = Annotated[str, typer.Option("--nonce", help="nonce from the URL.")]


def _language() -> str:
    try:
        return load_config().language
    except Exception:
        return "zh_CN"


def _refuse(headline: str, detail: str) -> None:
    console.print(gettext(headline, _language()), markup=False)
    console.print(detail, markup=False)
    raise typer.Exit(1)


def _crypto(token: str, aes_key: str, corp_id: str) -> WecomCrypto:
    crypto = WecomCrypto(token, aes_key, corp_id)
    try:
        crypto.key  # noqa: B018 - checks the key
    except ValueError as exc:
        _refuse(BAD_KEY, str(exc))
    return crypto


@wecom_app.command("verify-url")
def verify_url(token: Token, aes_key: AesKey, corp_id: CorpId, signature: Signature,
               timestamp: Timestamp, nonce: Nonce,
               echostr: Annotated[str, typer.Option(
                   "--echostr", help="echostr, URL-decoded.")]) -> None:
    """Answer WeCom's URL check: print the decrypted echostr."""
    try:
        plain = _crypto(token, aes_key, corp_id).verify_url(signature, timestamp, nonce, echostr)
    except CryptoError as exc:
        _refuse(HEADLINES[exc.code], exc.reason)
    sys.stdout.write(plain + "\n")


@wecom_app.command("decrypt")
def decrypt(token: Token, aes_key: AesKey, corp_id: CorpId, signature: Signature,
            timestamp: Timestamp, nonce: Nonce,
            data: Annotated[str, typer.Option(
                "--data", help="The Encrypt text, or the whole POSTed XML; - reads stdin.")]
            ) -> None:
    """Decrypt a callback: print its XML."""
    raw = sys.stdin.read() if data == "-" else data
    try:
        encrypted = envelope_encrypt(raw) if raw.lstrip().startswith("<") else raw.strip()
        plain = _crypto(token, aes_key, corp_id).decrypt_message(signature, timestamp, nonce,
                                                                 encrypted)
    except CryptoError as exc:
        _refuse(HEADLINES[exc.code], exc.reason)
    sys.stdout.write(plain + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(wecom_app, name="wecom")
