"""Check-in challenges in the chat: once a day, proof when asked, completion rewards once,
reminders only to those who have not checked in, the board."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from qunyun.features.challenge.models import Challenge, ChallengeCheckin
from qunyun.points.models import PointsEntry
from tests import factories as f
from tests.conftest import START
from tests.features.challenge.conftest import DAY, FIRST_DAY, add_challenge
from tests.features.redpacket.conftest import Chat


async def entries(chat: Chat, reason: str) -> int:
    async with chat.rt.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PointsEntry)
                                        .where(PointsEntry.reason == reason)) or 0)


async def checkins(chat: Chat) -> list[ChallengeCheckin]:
    async with chat.rt.sessions() as session:
        return list((await session.scalars(select(ChallengeCheckin).order_by(
            ChallengeCheckin.day, ChallengeCheckin.person_id))).all())


async def test_check_in_once_a_day(chat: Chat) -> None:
    await add_challenge(chat)
    [first] = await chat.say("a", "挑战打卡", minutes=10)
    assert "day 1/7" in first and "1 days so far" in first and "+5 points" in first
    [again] = await chat.say("a", "挑战打卡", minutes=20)
    assert "already" in again
    [second] = await chat.say("a", "/挑战打卡", minutes=DAY + 10)
    assert "day 2/7" in second and "2 days so far" in second
    assert await chat.balance("a") == 10 and await entries(chat, "challenge_checkin") == 2


async def test_a_duplicate_event_counts_once(chat: Chat) -> None:
    await add_challenge(chat)
    checkin = f.message("a", "挑战打卡", minutes=10)
    await chat.post(checkin)
    await chat.post(checkin)
    assert len(await checkins(chat)) == 1 and await chat.balance("a") == 5


async def test_text_proof(chat: Chat) -> None:
    await add_challenge(chat, proof="text")
    [refused] = await chat.say("a", "挑战打卡", minutes=10)
    assert "write a few words" in refused
    assert await checkins(chat) == [] and await chat.balance("a") == 0
    [ok] = await chat.say("a", "挑战打卡\u3000跑了５公里，很累", minutes=11)
    assert "day 1/7" in ok
    [row] = await checkins(chat)
    assert row.text == "跑了５公里，很累"  # as typed


async def test_image_proof(chat: Chat) -> None:
    await add_challenge(chat, proof="image")
    [refused] = await chat.say("a", "挑战打卡", minutes=10)
    assert "picture" in refused
    picture = f.message("a", "挑战打卡", minutes=11, name="名a",
                        media={"url": "https://img.example/1.jpg"})
    picture["data"]["kind"] = "image"
    [ok] = await chat.post(picture)
    assert "day 1/7" in ok
    [row] = await checkins(chat)
    assert row.image_url == "https://img.example/1.jpg"
    photo = f.message("b", "", minutes=12)
    photo["data"]["kind"] = "image"
    await chat.post(photo)
    [by_reply] = await chat.say("b", "挑战打卡", minutes=13, reply_to=photo["data"]["message_id"])
    assert "day 1/7" in by_reply
    [not_mine] = await chat.say("c", "挑战打卡", minutes=14, reply_to=photo["data"]["message_id"])
    assert "picture" in not_mine


async def test_completion_reward_once(chat: Chat) -> None:
    await add_challenge(chat, end_day=FIRST_DAY + timedelta(days=2), completion_points=100)
    for day in range(3):
        [reply] = await chat.say("a", "挑战打卡", minutes=day * DAY + 10)
    assert "Challenge complete" in reply and "+100 points" in reply
    assert await chat.balance("a") == 3 * 5 + 100
    assert await entries(chat, "challenge_complete") == 1


async def test_a_threshold_completes_early_and_pays_once(chat: Chat) -> None:
    await add_challenge(chat, end_day=FIRST_DAY + timedelta(days=2), completion_points=50,
                        required_days=2)
    [day1] = await chat.say("a", "挑战打卡", minutes=10)
    [day2] = await chat.say("a", "挑战打卡", minutes=DAY + 10)
    [day3] = await chat.say("a", "挑战打卡", minutes=2 * DAY + 10)
    assert "complete" not in day1 and "Challenge complete" in day2 and "complete" not in day3
    assert await entries(chat, "challenge_complete") == 1


async def test_missing_a_day_means_no_completion(chat: Chat) -> None:
    await add_challenge(chat, end_day=FIRST_DAY + timedelta(days=2), completion_points=100)
    await chat.say("a", "挑战打卡", minutes=10)
    await chat.say("a", "挑战打卡", minutes=2 * DAY + 10)
    assert await entries(chat, "challenge_complete") == 0


async def test_reminder_mentions_only_those_missing(chat: Chat) -> None:
    # 20:00 in Shanghai is 12:00 UTC; START is 08:00 there.
    await add_challenge(chat, reminder_hour=20)
    for member in ("a", "b", "c"):
        await chat.say(member, "挑战打卡", minutes=10)
    assert await chat.tick(START + timedelta(hours=12)) == 1  # day 1: everyone did it, silent
    assert [a for a in await chat.actions() if not a.data.get("reply_to")] == []
    await chat.say("a", "挑战打卡", minutes=DAY + 60)
    await chat.say("x", "我不参加", minutes=DAY + 61)
    assert await chat.tick(START + timedelta(days=1, hours=12)) == 1
    [reminder] = [a for a in await chat.actions() if not a.data.get("reply_to")]
    assert sorted(reminder.data["mentions"]) == ["b", "c"]
    assert "day 2/7" in reminder.data["text"] and "@名b" in reminder.data["text"]
    assert "@名a" not in reminder.data["text"]


async def test_reminder_mentions_are_capped(chat: Chat) -> None:
    await chat.enable(reminder_mentions=2)
    await add_challenge(chat, reminder_hour=20)
    for member in ("a", "b", "c", "d"):
        await chat.say(member, "挑战打卡", minutes=10)
    await chat.tick(START + timedelta(hours=12))
    await chat.tick(START + timedelta(days=1, hours=12))
    [reminder] = [a for a in await chat.actions() if not a.data.get("reply_to")]
    assert len(reminder.data["mentions"]) == 2 and "and 2 more" in reminder.data["text"]


async def test_reminders_stop_when_archived(chat: Chat) -> None:
    challenge = await add_challenge(chat, reminder_hour=20)
    await chat.say("a", "挑战打卡", minutes=10)
    async with chat.rt.sessions() as session:
        row = await session.get(Challenge, challenge)
        assert row is not None
        row.status = "archived"
        await session.commit()
    await chat.tick(START + timedelta(days=3))
    assert [a for a in await chat.actions() if not a.data.get("reply_to")] == []
    assert await chat.say("a", "挑战打卡", minutes=DAY + 10) == []


async def test_the_board(chat: Chat) -> None:
    await add_challenge(chat, end_day=FIRST_DAY + timedelta(days=1), daily_points=0)
    await chat.say("a", "挑战打卡", minutes=10)
    await chat.say("b", "挑战打卡", minutes=11)
    await chat.say("b", "挑战打卡", minutes=DAY + 11)
    [board] = await chat.say("c", "挑战榜", minutes=DAY + 20)
    lines = board.splitlines()
    assert "day 2/2" in lines[0] and "2 taking part" in lines[0]
    assert lines[1] == "1. 名b: 2 days ✅" and lines[2] == "2. 名a: 1 days"


async def test_before_after_and_elsewhere(chat: Chat) -> None:
    group_id = await chat.group()
    await add_challenge(chat, start_day=FIRST_DAY + timedelta(days=1),
                        end_day=FIRST_DAY + timedelta(days=1), group_ids=(group_id,))
    [early] = await chat.say("a", "挑战打卡", minutes=10)
    assert "starts on 2026-11-23" in early
    assert await chat.say("a", "挑战打卡", minutes=DAY + 10, group="g2") == []  # not its group
    [late] = await chat.say("a", "挑战打卡", minutes=2 * DAY + 10)
    assert "has ended" in late


async def test_signin_words_and_aliases(chat: Chat) -> None:
    await add_challenge(chat)
    assert await chat.say("a", "打卡", minutes=10) == []  # 打卡 belongs to sign-in
    [alias] = await chat.say("a", "checkin", minutes=11)
    assert "day 1/7" in alias


async def test_nothing_running_means_silence(chat: Chat) -> None:
    assert await chat.say("a", "挑战打卡", minutes=10) == []
    await add_challenge(chat, start_day=date(2027, 1, 1), end_day=date(2027, 1, 2))
    [board] = await chat.say("a", "挑战榜", minutes=11)
    assert "No challenge" in board

