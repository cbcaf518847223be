"""CQ strings and segment arrays, against the shared vectors (spec, nonebot, go-cqhttp)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qunyun.platforms.onebot.cq import (
    escape_param,
    escape_text,
    merge_text,
    parse_cq,
    segments_of,
    to_cq,
    unescape_param,
    unescape_text,
)
from tests.conftest import shared_data


def vectors() -> list[dict[str, Any]]:
    path = shared_data("onebot11", "cq_parse_vectors.json")
    items: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return items


def test_there_are_seven_vectors() -> None:
    assert len(vectors()) == 7


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    expected = vector.get("expected_array") or vector.get("expected_array_derived") \
        or vector.get("expected_array_gocqhttp")
    if "cq_string" in vector and expected is not None:
        assert parse_cq(vector["cq_string"]) == merge_text(expected)
    if vector["id"] == "spec-array-example":  # the round trip gives the escaped string back
        assert to_cq(vector["expected_array"]) == vector["cq_string"]
    if "plain_text" in vector:
        assert escape_text(vector["plain_text"]) == vector["escaped"]
        assert unescape_text(vector["escaped"]) == vector["plain_text"]
        assert parse_cq(vector["escaped"]) == [{"type": "text",
                                                "data": {"text": vector["plain_text"]}}]
    if vector["id"] == "spec-no-spaces":  # the spec's rule: the key keeps its leading space
        assert parse_cq(vector["cq_string"]) == [{"type": "face", "data": {" id": "178"}}]


def test_literal_cq_text_stays_text() -> None:
    segments = [{"type": "text", "data": {"text": "[CQ:test]"}}]
    assert to_cq(segments) == "&#91;CQ:test&#93;"
    assert parse_cq(to_cq(segments)) == segments


def test_params_escape_commas_and_round_trip() -> None:
    share = [{"type": "share", "data": {"title": "震惊,小伙睡觉前居然...",
                                        "url": "http://baidu.com/?a=1&b=2"}}]
    text = to_cq(share)
    assert text == "[CQ:share,title=震惊&#44;小伙睡觉前居然...,url=http://baidu.com/?a=1&amp;b=2]"
    assert parse_cq(text) == share
    assert unescape_param(escape_param("a,b&[c]")) == "a,b&[c]"


def test_stray_brackets_are_text() -> None:
    assert parse_cq("[CQ:face,id=1] [x] [CQ:bad") == [
        {"type": "face", "data": {"id": "1"}}, {"type": "text", "data": {"text": " [x] [CQ:bad"}}]


def test_array_form_is_checked() -> None:
    assert segments_of({"type": "at", "data": {"qq": "1"}}) == [{"type": "at",
                                                                 "data": {"qq": "1"}}]
    with pytest.raises(ValueError, match=r"message\[0\]"):
        segments_of([{"data": {}}])
    with pytest.raises(ValueError, match="CQ string or an array"):
        segments_of(42)
