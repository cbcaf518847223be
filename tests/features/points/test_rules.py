"""The award rules as pure functions: each anti-farming rule, reactions, held invites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunyun.features.points.rules import (
    Award,
    InviteFact,
    LeaveFact,
    MemberMemory,
    ReactionFact,
    Where,
    message_award,
    message_fact,
    normalize_text,
    reaction_award,
    release_time,
    replay_awards,
    similarity,
)
from qunyun.features.points.settings import PointsSettings

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ON = PointsSettings(enabled=True)


def where(seconds: float = 0, group: int = 1, source: str | None = None) -> Where:
    at = T0 + timedelta(seconds=seconds)
    return Where(1, 1, group, at, "Asia/Shanghai", source or f"bridge:e{seconds}")


def say(memory: MemberMemory, text: str, seconds: float, settings: PointsSettings = ON,
        person: int = 7) -> Award | None:
    fact = message_fact(where(seconds), person, text, settings)
    return None if fact is None else message_award(fact, settings, memory)


def test_only_letters_and_digits_count() -> None:
    assert normalize_text("  Hello, 世界!! 😀🎉 ２０２６ ") == "hello世界2026"
    memory = MemberMemory()
    assert say(memory, "哈 哈！😀😀😀 ……", 0) is None  # two letters: too short
    assert memory.recent == []  # a too-short message is not even remembered
    award = say(memory, "今天的活动几点开始？", 0)
    assert award is not None and (award.amount, award.reason) == (1, "message")
    assert award.key == "points:message:bridge:e0" and award.source_event == "bridge:e0"


def test_cooldown_counts_from_the_last_paid_message() -> None:
    memory = MemberMemory()
    assert say(memory, "第一条认真的发言", 0) is not None
    assert say(memory, "第二条完全不同的内容", 30) is None  # within 60 s
    assert say(memory, "第三条又是别的话题了", 59) is None
    assert say(memory, "第四条终于过了冷却时间", 60) is not None


def test_near_duplicates_earn_nothing_even_after_the_cooldown() -> None:
    assert similarity("今天天气真好", "今天天气真好啊") >= 0.8
    assert similarity("今天天气真好", "明天我们去爬山") < 0.3
    memory = MemberMemory()
    assert say(memory, "今天天气真好", 0) is not None
    assert say(memory, "今天天气真好啊!!", 120) is None
    assert say(memory, "今天 天气 真好", 240) is None  # blanks do not make it new
    assert say(memory, "明天我们去爬山吧", 360) is not None
    assert len(memory.recent) == 4  # paid or not, every long-enough message is recent
    # Five other messages later the first one is forgotten (window 5).
    for i, text in enumerate(("周末有空吗大家", "新品到店了吗", "我想报名参加",
                              "会员日是哪天", "积分怎么兑换")):
        say(memory, text, 500 + i * 100)
    assert say(memory, "今天天气真好", 2000) is not None


def test_the_daily_cap_follows_the_local_day() -> None:
    settings = PointsSettings(enabled=True, message_points=3, message_daily_cap=7,
                              message_cooldown_seconds=0)
    memory = MemberMemory()
    amounts = [getattr(say(memory, f"第{i}条不同的消息内容{i * 7919}", i, settings), "amount", 0)
               for i in range(5)]
    assert amounts == [3, 3, 1, 0, 0]  # the last award is cut to the cap
    # 16:00 UTC is midnight in Shanghai: a new day, a new cap.
    midnight = (datetime(2026, 11, 22, 16, 0, tzinfo=UTC) - T0).total_seconds()
    assert getattr(say(memory, "新的一天新的开始啦", midnight, settings), "amount", 0) == 3


def test_switched_off_parts_award_nothing() -> None:
    memory = MemberMemory()
    assert say(memory, "一条很长很长的消息", 0, PointsSettings(message_points=0)) is None
    no_window = PointsSettings(enabled=True, duplicate_window=0, message_cooldown_seconds=0)
    assert say(memory, "同样的话说两遍", 0, no_window) is not None
    assert say(memory, "同样的话说两遍", 1, no_window) is not None


def react(memory: MemberMemory, reactor: int, first: bool = True, author: int = 7,
          seconds: float = 0, settings: PointsSettings = ON) -> Award | None:
    fact = ReactionFact(where(seconds), author, reactor, "m1")
    return reaction_award(fact, first, settings, memory)


def test_reactions_pay_the_author_once_per_reactor_never_self() -> None:
    memory = MemberMemory()
    award = react(memory, reactor=8)
    assert award is not None and (award.person_id, award.reason) == (7, "reaction")
    assert react(memory, reactor=7) is None  # own message
    assert react(memory, reactor=8, first=False) is None
    capped = PointsSettings(enabled=True, reaction_daily_cap=2)
    fresh = MemberMemory()
    assert [bool(react(fresh, reactor=r, settings=capped)) for r in (8, 9, 10)] == [
        True, True, False]


def test_replay_holds_invites_and_counts_a_reactor_once() -> None:
    settings = PointsSettings(enabled=True, invite_hold_hours=24)
    hour = 3600
    facts = [
        InviteFact(where(0, source="bridge:j1"), inviter_id=1, invitee_id=2),
        InviteFact(where(10, source="bridge:j2"), inviter_id=1, invitee_id=3),
        LeaveFact(1, 3, T0 + timedelta(hours=5)),  # left before the hold ended
        ReactionFact(where(20, source="bridge:r1"), 5, 6, "m9"),
        ReactionFact(where(30, source="bridge:r2"), 5, 6, "m9"),  # the same reactor again
        InviteFact(where(40, source="bridge:j3"), inviter_id=4, invitee_id=2),  # 2 again
        LeaveFact(1, 2, T0 + timedelta(hours=24, seconds=30)),  # after the hold: still counts
    ]
    awards = replay_awards(facts, lambda _: settings, T0 + timedelta(hours=30))
    assert [(a.reason, a.person_id, a.amount) for a in awards] == [
        ("reaction", 5, 1), ("invite", 1, 10)]
    invite = awards[1]
    assert invite.at == T0 + timedelta(hours=24) and invite.source_event == "bridge:j1"
    # Not released before the first full hour after the hold.
    early = replay_awards(facts[:1], lambda _: settings, T0 + timedelta(seconds=24 * hour - 1))
    assert early == []
    six = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # T0 is 02:00 UTC
    assert release_time(T0) == release_time(six) == six


def test_a_switched_off_group_earns_nothing_in_a_replay() -> None:
    fact = message_fact(where(0), 7, "一条足够长的消息", ON)
    assert fact is not None
    assert replay_awards([fact], lambda _: PointsSettings(enabled=False), T0) == []
    assert len(replay_awards([fact], lambda _: ON, T0)) == 1
