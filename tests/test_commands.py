from __future__ import annotations

from qunyun.core.commands import matches, parse_command


def test_commands_are_found_however_they_are_typed() -> None:
    for text in ("签到", " /签到 ", "＃签到", "!签到", "签到\u3000"):
        found = matches(text, ["签到", "打卡"])
        assert found is not None and found.word == "签到", text
    assert matches("/SignIn", ["signin"]) is not None
    assert matches("我要签到", ["签到"]) is None
    assert matches("", ["签到"]) is None


def test_the_argument_is_the_rest_of_the_message() -> None:
    command = parse_command("排行榜 本周 积分")
    assert command is not None
    assert (command.word, command.argument) == ("排行榜", "本周 积分")
    assert parse_command("   ") is None
