"""`[features.signin]` in a playbook: the contract's keys, our own keys, their validation."""

from __future__ import annotations

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.features.signin.settings import SigninSettings
from qunyun.pipeline.playbook import parse_playbook
from tests.features.signin.conftest import signin_registry

HEAD = 'version = 1\nname = "p"\n'


def errors_of(table: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + "[features.signin]\n" + table, signin_registry())
    return [str(e) for e in caught.value.errors]


def test_the_contract_example_and_our_keys_parse() -> None:
    spec = parse_playbook(HEAD + '[features.signin]\nenabled = true\nkeywords = ["签到", "打卡"]\n'
                          'points = 10\naliases = ["checkin"]\nmakeup_card_price = 0\n'
                          'makeup_days = 3\n[features.signin.streak_bonus]\n3 = 5\n7 = 20\n',
                          signin_registry())
    assert spec.sections["signin"]["streak_bonus"] == {"3": 5, "7": 20}
    settings = SigninSettings.model_validate(spec.sections["signin"])
    assert settings.bonus_for(7) == 20 and settings.bonus_for(8) == 0
    assert settings.commands()["checkin"] == "signin"


def test_defaults_are_on() -> None:
    settings = SigninSettings()
    assert settings.enabled and settings.keywords == ["签到", "打卡"] and settings.points == 10


@pytest.mark.parametrize(("table", "expected"), [
    ("points = 0\n", "features.signin.points: must be a positive integer"),
    ("points = -3\n", "features.signin.points: must be a positive integer"),
    ('points = "10"\n', "features.signin.points: must be an integer"),
    ("keywords = []\n", "features.signin.keywords: must have at least 1 items or characters"),
    ('keywords = ["签 到"]\n',
     "features.signin.keywords: each keyword must be one word without spaces: 签 到"),
    ("streak_bonus = {1 = 5}\n",
     "features.signin.streak_bonus: a streak length is a whole number of days, at least 2: 1"),
    ("streak_bonus = {week = 5}\n",
     "features.signin.streak_bonus: a streak length is a whole number of days, at least 2: "
     "week"),
    ("streak_bonus = {7 = 0}\n", "features.signin.streak_bonus.7: must be a positive integer"),
    ("makeup_card_price = -1\n", "features.signin.makeup_card_price: must not be negative"),
    ("makeup_days = 0\n", "features.signin.makeup_days: must be at least 1"),
    ("bonus = 1\n", "features.signin.bonus: unknown key"),
])
def test_invalid_values_name_the_key(table: str, expected: str) -> None:
    assert errors_of(table) == [expected]
