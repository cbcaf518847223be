"""WeCom callback crypto (the WXBizMsgCrypt scheme of 加解密方案说明).

- signature: SHA1 over the sorted strings token, timestamp, nonce and the encrypted text;
- cipher: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[:16];
- padding: PKCS#7 to a 32-byte block (pad lengths 1..32, so a 16-byte unpadder is wrong);
- plaintext: 16 random bytes + message length (4 bytes, network order) + message + receive id,
  and the receive id must be the configured corp id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
AES_KEY_LENGTH = 43  # characters of an EncodingAESKey


class CryptoError(ValueError):
    """A callback that must not be trusted; `code` says why (forged, foreign, malformed)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


BAD_SIGNATURE = "bad_signature"
WRONG_RECEIVER = "wrong_receiver"
MALFORMED = "malformed"


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    parts = sorted([token, timestamp, nonce, encrypted])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of an EncodingAESKey (43 base64 characters)."""
    if len(encoding_aes_key) != AES_KEY_LENGTH:
        raise ValueError(f"EncodingAESKey must be {AES_KEY_LENGTH} characters, "
                         f"got {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError(f"EncodingAESKey is not base64: {exc}") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes) -> bytes:
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes) -> bytes:
    if not data or len(data) % 16:
        raise CryptoError(MALFORMED, "the decrypted text is not a whole number of AES blocks")
    amount = data[-1]
    if not 1 <= amount <= BLOCK or data[-amount:] != bytes([amount]) * amount:
        raise CryptoError(MALFORMED, "the decrypted text has invalid PKCS#7 padding "
                                     "(wrong EncodingAESKey?)")
    return data[:-amount]


@dataclass(frozen=True, slots=True)
class WecomCrypto:
    """One corp's callback secrets: token, EncodingAESKey and the corp id (receive id)."""

    token: str
    encoding_aes_key: str
    receive_id: str

    @property
    def key(self) -> bytes:
        return aes_key(self.encoding_aes_key)

    def check_signature(self, msg_signature: str, timestamp: str, nonce: str,
                        encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise CryptoError(BAD_SIGNATURE, "the signature does not match (wrong token, or the "
                                             "request was not sent by WeCom)")

    def decrypt(self, encrypted: str) -> str:
        """The message inside `encrypted`; its receive id must be ours."""
        message, receive_id = self.open(encrypted)
        if receive_id != self.receive_id:
            raise CryptoError(WRONG_RECEIVER, f"the message is for receive id {receive_id!r}, "
                                              f"not for corp id {self.receive_id!r}")
        return message

    def open(self, encrypted: str) -> tuple[str, str]:
        """Decrypt without checking the receive id: (message, receive id)."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except binascii.Error as exc:
            raise CryptoError(MALFORMED, f"the encrypted text is not base64: {exc}") from exc
        if not raw or len(raw) % 16:
            raise CryptoError(MALFORMED, "the encrypted text is not a whole number of AES blocks")
        key = self.key
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise CryptoError(MALFORMED, "the decrypted text is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError(MALFORMED, "the message length exceeds the decrypted text")
        try:
            message = plain[20:20 + length].decode()
            receive_id = plain[20 + length:].decode()
        except UnicodeDecodeError as exc:
            raise CryptoError(MALFORMED, "the decrypted text is not UTF-8") from exc
        return message, receive_id

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The answer to WeCom's URL check: the decrypted echostr (already URL-decoded)."""
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_message(self, msg_signature: str, timestamp: str, nonce: str,
                        encrypted: str) -> str:
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt(self, message: str, random_prefix: bytes | None = None) -> str:
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("the random prefix must be 16 bytes")
        body = message.encode()
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        key = self.key
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        raw = encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()
        return base64.b64encode(raw).decode()
