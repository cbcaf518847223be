"""Settings of red packets and challenges in a playbook: errors name the key path; the help
lines say how to use them."""

from __future__ import annotations

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.features.challenge.plugin import FEATURE as CHALLENGE
from qunyun.features.challenge.settings import ChallengeSettings
from qunyun.features.redpacket.plugin import FEATURE as REDPACKET
from qunyun.features.redpacket.settings import RedpacketSettings
from qunyun.pipeline.playbook import parse_playbook

HEAD = 'version = 1\nname = "p"\n'
REGISTRY = FeatureRegistry([REDPACKET, CHALLENGE])


def test_a_valid_playbook_section() -> None:
    spec = parse_playbook(HEAD + '[features.redpacket]\nenabled = true\nmax_total = 500\n'
                          'default_mode = "equal"\nclaim_keywords = ["抢", "grab"]\n'
                          '[features.challenge]\nenabled = true\nreminder_mentions = 5\n',
                          REGISTRY)
    assert spec.sections["redpacket"]["max_total"] == 500


@pytest.mark.parametrize(("section", "expected"), [
    ("[features.redpacket]\nmax_count = 5000\n", "features.redpacket.max_count: must be at most"),
    ("[features.redpacket]\nexpire_hours = 0\n", "features.redpacket.expire_hours: must be at"),
    ('[features.redpacket]\ndefault_mode = "big"\n', "features.redpacket.default_mode: must be"),
    ("[features.redpacket]\nsend_keywords = []\n",
     "features.redpacket.send_keywords: needs at least one keyword"),
    ('[features.redpacket]\nclaim_keywords = ["抢 红包"]\n',
     "features.redpacket.claim_keywords: each keyword must be one word"),
    ("[features.challenge]\nboard_size = 0\n", "features.challenge.board_size: must be at least"),
    ('[features.challenge]\ncheckin_aliases = [""]\n',
     "features.challenge.checkin_aliases: each keyword must be one word"),
])
def test_errors_name_the_key_path(section: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + section, REGISTRY)
    assert any(str(e).startswith(expected) for e in caught.value.errors), caught.value.errors


def test_usage_lines() -> None:
    assert REDPACKET.usage is not None and CHALLENGE.usage is not None
    send, grab = REDPACKET.usage(RedpacketSettings(), "en")
    assert send.startswith("发红包 <total points> <shares>") and "抢红包 / grab" in grab
    checkin, board = CHALLENGE.usage(ChallengeSettings(), "en")
    assert checkin.startswith("挑战打卡 / checkin") and board.startswith("挑战榜")
