"""Moderation settings in a playbook: the contract keys, our tables, and errors that name the key
path and the reason (regex errors with the position); a bad rule set changes nothing."""

from __future__ import annotations

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.features.moderation.plugin import FEATURE
from qunyun.features.moderation.settings import ModerationSettings
from qunyun.pipeline.playbook import parse_playbook, playbook_schema

HEAD = 'version = 1\nname = "p"\n'
REGISTRY = FeatureRegistry([FEATURE])


def test_the_contract_example_is_valid() -> None:
    spec = parse_playbook(HEAD + '[features.moderation]\nenabled = true\n'
                          'banned_words = ["代开发票", "加微信领红包"]\n'
                          'ladder = ["warn", "warn", "mute:600", "mute:86400", "kick"]\n',
                          REGISTRY)
    assert spec.sections["moderation"]["banned_words"] == ["代开发票", "加微信领红包"]


def test_our_tables_are_valid() -> None:
    spec = parse_playbook(HEAD + '''
[features.moderation]
enabled = true
builtin_lists = ["ads"]
exempt_roles = ["owner", "admin", "expert"]
warning_decay_hours = 168
[features.moderation.links]
enabled = true
allow = ["www.Example.com"]
[features.moderation.flood]
messages = 5
seconds = 10
[features.moderation.night]
enabled = true
start = "22:30"
end = "07:00"
[features.moderation.word_lists.shared]
category = "ads"
words = ["刷单", "兼职日结"]
[[features.moderation.regexes]]
name = "订单号"
pattern = 'DD\\d{6}'
''', REGISTRY)
    values = spec.sections["moderation"]
    assert values["links"]["allow"] == ["example.com"]
    assert values["regexes"] == [{"name": "订单号", "pattern": "DD\\d{6}"}]
    assert ModerationSettings.model_validate(values).night.start == "22:30"


@pytest.mark.parametrize(("section", "expected"), [
    ('ladder = ["warn", "ban"]', "features.moderation.ladder: unknown step ban"),
    ('ladder = ["mute:5"]', "features.moderation.ladder: a mute lasts from 60"),
    ("ladder = []", "features.moderation.ladder: must have at least 1"),
    ('banned_words = ["好", "' + "长" * 60 + '"]',
     "features.moderation.banned_words.1: entry is too long"),
    ('builtin_lists = ["nope"]', "features.moderation.builtin_lists: no built-in list nope"),
    ('exempt_roles = ["boss"]', "features.moderation.exempt_roles: unknown role boss"),
    ("warning_decay_hours = -1", "features.moderation.warning_decay_hours: must not be negative"),
    ('links = {allow = ["not a domain"]}', "features.moderation.links.allow: not a domain"),
    ('night = {start = "24:00"}', "features.moderation.night.start: a time of day is HH:MM"),
    ('regexes = [{name = "x", pattern = "(abc"}]',
     "features.moderation.regexes.0.pattern: missing ) at"),
    ('word_lists = {a = {category = "Ads!", words = []}}',
     "features.moderation.word_lists.a.category: a category is lower-case"),
    ("flood = {messages = 1}", "features.moderation.flood.messages: must be at least 2"),
    ("classifier = {threshold = 0.2}", "features.moderation.classifier.threshold: must be at"),
    ("colour = 1", "features.moderation.colour"),
])
def test_errors_name_the_key_path_and_the_reason(section: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + "[features.moderation]\n" + section + "\n", REGISTRY)
    rendered = [str(e) for e in caught.value.errors]
    assert any(line.startswith(expected) for line in rendered), rendered


def test_regex_errors_give_the_position() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + '[features.moderation]\nregexes = [{name = "x", pattern = "a(b"}]\n',
                       REGISTRY)
    error = caught.value.errors[0]
    assert error.path == "features.moderation.regexes.0.pattern"
    assert dict(error.params)["position"] == 4  # the end of "a(b": the ")" is missing there


def test_the_schema_documents_every_key() -> None:
    schema = playbook_schema(REGISTRY)
    model = schema["$defs"]["ModerationSettings"]["properties"]
    for key in ("banned_words", "ladder", "links", "flood", "newcomer", "all_mute", "night"):
        assert key in model
