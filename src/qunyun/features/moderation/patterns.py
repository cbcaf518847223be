"""Contact solicitation and links.

Contacts are found on the normalized text (so "加 V 信", "ＶＸ" and "壹叁捌…" are caught),
links on the original text (normalization drops the dots and slashes a link is made of).

Contact categories: "wechat" (加微信, V信, vx/wx, a WeChat id or number after such a word,
微信同号), "qq" (加QQ, 加扣扣, 加企鹅, a QQ number of 5–11 digits after such a word),
"phone" (an 11-digit Chinese mobile number, or 7–12 digits after 电话/手机/热线/tel),
"solicit" (私聊, 私我, 加好友, 扫码进群 …). A bare 微信号 or QQ群 is normal talk: no hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from qunyun.features.moderation.matcher import Hit
from qunyun.features.moderation.normalize import Normalized, normalize_char

# Words for WeChat (after normalization: lower case, no spaces or symbols).
_WECHAT_CJK = r"(?:微信|薇信|维信|徽信|围信|v信|微x)"
_WECHAT_LATIN = r"(?:(?<![a-z])(?:vx|wx|weixin|wechat))"
_WECHAT = rf"(?:{_WECHAT_CJK}|{_WECHAT_LATIN})"
# After a Latin word (vx, wechat) an id must contain a digit: "vxworks" is no WeChat id.
_WECHAT_ID = (rf"{_WECHAT_CJK}{{say}}[a-z][a-z0-9]{{{{5,19}}}}(?![a-z0-9])"
              rf"|{_WECHAT_LATIN}{{say}}[a-z](?=[a-z0-9]{{{{0,18}}}}\d)[a-z0-9]{{{{5,19}}}}(?![a-z0-9])")
_QQ = r"(?:(?<![a-z])qq|扣扣|企鹅|球球|(?<![a-z])q(?=群))"
_SAY = r"(?:号码|号|群号|群|id)?(?:是|为|在)?"
_PATTERNS = {
    "qq": rf"{_QQ}{_SAY}\d{{5,11}}(?!\d)|(?:加|加我|加个){_QQ}",
    "wechat": _WECHAT_ID.format(say=_SAY) + rf"|{_WECHAT}{_SAY}\d{{5,12}}(?!\d)"
              rf"|(?:加|加我|加个|加下|加一下|添加){_WECHAT}|{_WECHAT}同号"
              r"|(?:加|加我)(?:v|薇|微)(?![a-z])|(?<![a-z])(?:vx|wx)(?![a-z])|v信",
    "phone": r"(?<!\d)1[3-9]\d{9}(?!\d)"
             r"|(?:电话|手机|热线|致电|来电|(?<![a-z])tel)(?:号码|号)?(?:是|为)?\d{7,12}(?!\d)",
    "solicit": r"私聊|私我|私信我|加我好友|加好友|加我(?=私)|扫码(?:加|进群|添加|领)"
               r"|进群领|拉你进群|有意者?(?:联系|私)|感兴趣的?(?:私|加|联系)",
}
_LATIN_KEYWORD = re.compile(r"vx|wx|weixin|wechat|qq")
_CONTACT = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS.items()))

_TLDS = ("com|net|org|cn|io|me|cc|co|info|biz|top|xyz|vip|club|shop|site|online|store|tech|"
         "app|dev|ly|gl|gg|to|link|live|pro|ru|uk|de|jp|hk|tw|us|tv|fm|la|ws|win|bid|icu|"
         "work|ink|red|fun|ltd|wang|mobi|asia|cloud|space|website|email|one|tk|ml|ga|cf|gq|"
         "id|in|sg|my|kr|fr|eu|edu|gov|name")
_DOT = r"[.．。]"
_HOST = rf"(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?{_DOT})+(?:{_TLDS})"
_LINK = re.compile(
    rf"(?P<url>https?://[^\s<>\"'，。、）)】]+)"
    rf"|(?<![\w@.．-])(?P<bare>{_HOST})(?![a-z0-9-])(?::\d{{1,5}})?(?:/[^\s<>\"'，。、）)】]*)?",
    re.IGNORECASE | re.ASCII)


def find_contacts(n: Normalized) -> list[Hit]:
    """Contact solicitation in the text, reported on the original text."""
    hits: list[Hit] = []
    for match in _CONTACT.finditer(n.text):
        if _inside_latin_word(n, match):
            continue
        category = match.lastgroup or "solicit"
        first, last = n.span(match.start(), match.end())
        hits.append(Hit(rule="contact", category=category, word=match.group(),
                        start=first, end=last, text=n.original[first:last]))
    return hits


def _inside_latin_word(n: Normalized, match: re.Match[str]) -> bool:
    """Whether the match's Latin keyword (vx, wx, qq ...) runs on into a longer word in the
    original text: "wxWidgets 3" is no WeChat, though it normalizes to "wxwidgets3"."""
    keyword = _LATIN_KEYWORD.search(n.text, match.start(), match.end())
    if keyword is None:
        return False
    after = n.origin[keyword.end() - 1] + 1
    if after >= len(n.original):
        return False
    folded = normalize_char(n.original[after])
    return bool(folded) and "a" <= folded[0] <= "z"


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    domain: str  # lower-case host without "www."
    start: int  # on the original text (-1 when only in the event's `urls`)
    end: int


def find_links(n: Normalized, urls: Sequence[str] = ()) -> list[Link]:
    """http(s) URLs and bare domains (example.com/x, t.cn/xx) in the text, then the event's
    `urls` that the text does not show (a link behind a word)."""
    links: list[Link] = []
    for match in _LINK.finditer(n.original):
        url = match.group()
        host = match.group("bare") or urlsplit(url).hostname or ""
        links.append(Link(url=url, domain=domain_of(host), start=match.start(),
                          end=match.end()))
    seen = {link.url for link in links}
    for url in urls:
        if url not in seen:
            seen.add(url)
            host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
            links.append(Link(url=url, domain=domain_of(host), start=-1, end=-1))
    return links


def domain_of(host: str) -> str:
    """Lower case, full-width dots as dots, no trailing dot and no "www." in front."""
    domain = host.lower().replace("．", ".").replace("。", ".").strip(".")
    return domain.removeprefix("www.")


def domain_matches(domain: str, patterns: Iterable[str]) -> bool:
    """True when `domain` is one of `patterns` or under one ("example.com" matches
    sub.example.com; a leading "*." or "." in a pattern is allowed)."""
    domain = domain_of(domain)
    for pattern in patterns:
        wanted = domain_of(pattern.strip().removeprefix("*."))
        if wanted and (domain == wanted or domain.endswith("." + wanted)):
            return True
    return False
