"""Contact solicitation (WeChat, QQ, phone, 私聊) and links with domains."""

from __future__ import annotations

import pytest

from qunyun.features.moderation.normalize import normalize
from qunyun.features.moderation.patterns import (
    Link,
    domain_matches,
    domain_of,
    find_contacts,
    find_links,
)


def contacts(text: str) -> list[tuple[str, str]]:
    return [(hit.category, hit.text) for hit in find_contacts(normalize(text))]


@pytest.mark.parametrize(("text", "expected"), [
    ("有需要的加微信", [("wechat", "加微信")]),
    ("加 V 信详聊", [("wechat", "加 V 信")]),
    ("加@V", [("wechat", "加@V")]),
    ("我的ＶＸ：ａｂｃ＿１２３", [("wechat", "ＶＸ：ａｂｃ＿１２３")]),
    ("微信号 shop2024", [("wechat", "微信号 shop2024")]),
    ("这个是我的微信：9⓿二肆⁹₈③⑸⒋➃㈤㊄", [("wechat", "微信：9⓿二肆⁹₈③⑸⒋➃㈤㊄")]),
    ("wx同号", [("wechat", "wx同号")]),
    ("call 138-0013-8000 now", [("phone", "138-0013-8000")]),
    ("电话：壹叁捌 〇〇壹叁 捌〇〇〇", [("phone", "电话：壹叁捌 〇〇壹叁 捌〇〇〇")]),
    ("热线 021-6888 8888", [("phone", "热线 021-6888 8888")]),
    ("QQ: 12345678", [("qq", "QQ: 12345678")]),
    ("扣扣号是123456哦", [("qq", "扣扣号是123456")]),
    ("加企鹅", [("qq", "加企鹅")]),
    ("详情私聊", [("solicit", "私聊")]),
    ("扫码进群领福利", [("solicit", "扫码进群")]),
    ("感兴趣的私我", [("solicit", "感兴趣的私")]),
])
def test_contacts_are_found_on_the_original(text: str, expected: list[tuple[str, str]]) -> None:
    assert contacts(text) == expected


@pytest.mark.parametrize("text", [
    "我微信上发你了",
    "vxworks is an RTOS",
    "wxWidgets 3.2 released",
    "今年是2024年，订单号 20240315",
    "价格 100 元，数量 12 个",
    "qq音乐很好用",
    "一二三四五六七",
])
def test_normal_talk_is_no_contact(text: str) -> None:
    assert contacts(text) == []


def test_links_urls_and_bare_domains() -> None:
    text = "看 https://www.Example.com/a?b=1 和 t.cn/xyz，还有 Foo.Example.org。"
    links = find_links(normalize(text))
    assert [(link.url, link.domain) for link in links] == [
        ("https://www.Example.com/a?b=1", "example.com"),
        ("t.cn/xyz", "t.cn"),
        ("Foo.Example.org", "foo.example.org"),
    ]
    first = links[0]
    assert text[first.start:first.end] == first.url


def test_no_links_in_file_names_and_versions() -> None:
    assert find_links(normalize("see file.txt, v1.2, e.g. node.js or a@b.com")) == []


def test_links_from_the_event_that_the_text_does_not_show() -> None:
    links = find_links(normalize("点这里 example.com"), ["example.com", "https://x.io/p"])
    assert links == [Link("example.com", "example.com", 4, 15),
                     Link("https://x.io/p", "x.io", -1, -1)]


def test_domains_match_their_subdomains() -> None:
    assert domain_of("WWW.Example.COM.") == "example.com"
    assert domain_matches("sub.example.com", ["example.com"])
    assert domain_matches("www.example.com", ["*.example.com"])
    assert domain_matches("example.com", [".example.com"])
    assert not domain_matches("badexample.com", ["example.com"])
    assert not domain_matches("example.com", ["", "other.org"])


@pytest.mark.parametrize("text", ["我的微信号被人恶意举报了", "QQ号被盗了", "他在群里很有威信"])
def test_mentioning_an_account_is_no_solicitation(text: str) -> None:
    assert contacts(text) == []
