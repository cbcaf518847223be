"""`qunyun wecom verify-url` and `qunyun wecom decrypt` against the shared vectors."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from qunyun.cli.main import app
from tests.conftest import shared_data


def vector(vector_id: str) -> dict[str, Any]:
    items = json.loads(shared_data("wecom", "crypto_vectors.json").read_text(encoding="utf-8"))
    return next(v for v in items if v["id"] == vector_id)


def args(v: dict[str, Any], **overrides: str) -> list[str]:
    values = {"--token": v["token"], "--aes-key": v["encoding_aes_key"],
              "--corp-id": v["receiveid"], "--signature": v["msg_signature"],
              "--timestamp": v["timestamp"], "--nonce": v["nonce"], **overrides}
    return [item for pair in values.items() for item in pair]


def test_verify_url_prints_the_echostr() -> None:
    v = vector("official-doc-verifyurl")
    result = CliRunner().invoke(app, ["wecom", "verify-url", *args(v, **{"--echostr":
                                                                          v["encrypt"]})])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == v["expected_plaintext"]


def test_decrypt_accepts_the_whole_xml_envelope() -> None:
    v = vector("official-doc-decryptmsg")
    result = CliRunner().invoke(app, ["wecom", "decrypt", *args(v, **{"--data":
                                                                       v["post_body_xml"]})])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == v["expected_plaintext"]


def test_decrypt_reads_stdin() -> None:
    v = vector("wechatpy-work-decrypt_message")
    result = CliRunner().invoke(app, ["wecom", "decrypt", *args(v, **{"--data": "-"})],
                                input=v["encrypt"])
    assert result.exit_code == 0, result.output
    assert "<Content><![CDATA[test]]></Content>" in result.stdout


def test_wrong_nonce_is_refused_with_a_reason() -> None:
    v = vector("wechatpy-work-check_signature")
    result = CliRunner().invoke(app, ["wecom", "verify-url", *args(
        v, **{"--nonce": v["negative_case"]["nonce"], "--echostr": v["encrypt"]})])
    assert result.exit_code == 1
    assert "signature" in result.output
    assert v["expected_plaintext"] not in result.stdout


def test_wrong_corp_id_is_refused_and_names_both_ids() -> None:
    v = vector("official-doc-decryptmsg")
    result = CliRunner().invoke(app, ["wecom", "decrypt", *args(
        v, **{"--corp-id": "wwother", "--data": v["encrypt"]})])
    assert result.exit_code == 1
    assert "wwother" in result.output and v["receiveid"] in result.output


def test_bad_aes_key_is_named() -> None:
    v = vector("official-doc-decryptmsg")
    result = CliRunner().invoke(app, ["wecom", "decrypt", *args(
        v, **{"--aes-key": "short", "--data": v["encrypt"]})])
    assert result.exit_code == 1
    assert "43" in result.output
