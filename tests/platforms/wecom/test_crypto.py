"""The callback crypto against the official and wechatpy vectors."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from qunyun.platforms.wecom.crypto import (
    BAD_SIGNATURE,
    MALFORMED,
    WRONG_RECEIVER,
    CryptoError,
    WecomCrypto,
    aes_key,
    pkcs7_pad,
    pkcs7_unpad,
    signature,
)
from tests.conftest import shared_data


def vectors() -> list[dict[str, Any]]:
    return json.loads(shared_data("wecom", "crypto_vectors.json").read_text(encoding="utf-8"))


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [v for v in vectors() if v["kind"] == kind]


def crypto_of(v: dict[str, Any], receive_id: str | None = None) -> WecomCrypto:
    return WecomCrypto(v["token"], v["encoding_aes_key"], receive_id or v["receiveid"])


def test_every_vector_signature_matches() -> None:
    for v in vectors():
        assert signature(v["token"], v["timestamp"], v["nonce"], v["encrypt"]) \
            == v["msg_signature"], v["id"]


@pytest.mark.parametrize("v", by_kind("verify_url"), ids=lambda v: v["id"])
def test_verify_url(v: dict[str, Any]) -> None:
    answer = crypto_of(v).verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["encrypt"])
    assert answer == v["expected_plaintext"]


def test_verify_url_from_the_url_encoded_request_line() -> None:
    v = next(v for v in vectors() if v.get("http_request_line", "").startswith("GET"))
    query = parse_qs(urlsplit(v["http_request_line"].split(" ", 1)[1]).query)
    answer = crypto_of(v).verify_url(query["msg_signature"][0], query["timestamp"][0],
                                     query["nonce"][0], query["echostr"][0])
    assert answer == v["expected_plaintext"]


@pytest.mark.parametrize("v", by_kind("decrypt_msg") + by_kind("encrypt_output"),
                         ids=lambda v: v["id"])
def test_decrypt_message(v: dict[str, Any]) -> None:
    plain = crypto_of(v).decrypt_message(v["msg_signature"], v["timestamp"], v["nonce"],
                                         v["encrypt"])
    assert plain == v["expected_plaintext"]
    assert crypto_of(v).open(v["encrypt"])[1] == v["expected_receiveid"]


@pytest.mark.parametrize("v", vectors(), ids=lambda v: v["id"])
def test_padding_is_pkcs7_to_32_bytes(v: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = aes_key(v["encoding_aes_key"])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = decryptor.update(base64.b64decode(v["encrypt"])) + decryptor.finalize()
    assert raw[-1] == v["pkcs7_pad_len_block32"]
    assert len(pkcs7_unpad(raw)) == len(raw) - v["pkcs7_pad_len_block32"]


def test_encrypt_is_byte_exact_with_a_fixed_prefix() -> None:
    (v,) = by_kind("encrypt_output")
    encrypted = crypto_of(v).encrypt(v["expected_plaintext"],
                                     random_prefix=v["fixed_random_prefix"].encode())
    assert encrypted == v["encrypt"]
    assert signature(v["token"], v["timestamp"], v["nonce"], encrypted) == v["msg_signature"]


def test_round_trip_with_random_prefix_and_chinese_text() -> None:
    (v,) = by_kind("encrypt_output")
    crypto = crypto_of(v)
    encrypted = crypto.encrypt("<xml><Name>小王</Name></xml>")
    assert crypto.decrypt(encrypted) == "<xml><Name>小王</Name></xml>"


def test_wrong_nonce_is_rejected() -> None:
    v = next(v for v in vectors() if "negative_case" in v)
    with pytest.raises(CryptoError) as info:
        crypto_of(v).verify_url(v["msg_signature"], v["timestamp"],
                                v["negative_case"]["nonce"], v["encrypt"])
    assert info.value.code == BAD_SIGNATURE


def test_wrong_corp_id_is_rejected() -> None:
    (v, *_) = by_kind("decrypt_msg")
    with pytest.raises(CryptoError) as info:
        crypto_of(v, receive_id="wwsomeoneelse").decrypt_message(
            v["msg_signature"], v["timestamp"], v["nonce"], v["encrypt"])
    assert info.value.code == WRONG_RECEIVER
    assert "wwsomeoneelse" in info.value.reason


def test_wrong_aes_key_is_malformed_not_a_crash() -> None:
    (v, *_) = by_kind("decrypt_msg")
    other = WecomCrypto(v["token"], "a" * 43, v["receiveid"])
    with pytest.raises(CryptoError) as info:
        other.decrypt(v["encrypt"])
    assert info.value.code in (MALFORMED, WRONG_RECEIVER)


@pytest.mark.parametrize("bad", ["not base64!", "", base64.b64encode(b"x" * 17).decode()])
def test_garbage_ciphertext_is_malformed(bad: str) -> None:
    (v, *_) = by_kind("decrypt_msg")
    with pytest.raises(CryptoError) as info:
        crypto_of(v).decrypt(bad)
    assert info.value.code == MALFORMED


def test_pad_lengths_cover_1_to_32() -> None:
    for size in range(64):
        padded = pkcs7_pad(b"x" * size)
        assert len(padded) % 32 == 0
        assert 1 <= padded[-1] <= 32
        assert pkcs7_unpad(padded) == b"x" * size


def test_bad_aes_key_is_named() -> None:
    with pytest.raises(ValueError, match="43 characters"):
        aes_key("short")
