"""The welcome feature: one message per burst of joins, private welcomes, templates, replay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import Community, Membership
from qunyun.core.config import Config
from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.features.welcome.plugin import FEATURE as WELCOME
from qunyun.pipeline.models import ActionRecord, ScheduledJob
from qunyun.pipeline.playbook import do_set_layer_values, parse_playbook
from tests import factories as f
from tests.conftest import START
from tests.pipeline.conftest import RuntimeFactory

TAIL = "加入g1！发送「签到」领取今日积分。"
ALLOWED = "allowed placeholders: {name}, {group}, {member_no}, {rules}"


def seconds(n: float) -> float:
    """Factory times are in minutes."""
    return n / 60


def burst(count: int, *, first_second: float = 0, apart: float = 2.5,
          prefix: str = "u") -> list[dict[str, Any]]:
    return [f.joined(f"{prefix}{i:02d}", name=f"成员{i:02d}",
                     minutes=seconds(first_second + i * apart)) for i in range(count)]


async def configure(rt: Runtime, org: int, **values: Any) -> None:
    async with rt.sessions() as session:
        await do_set_layer_values(session, rt.registry, org_id=org, scope="organization",
                                  scope_id=org, section="welcome", values=values, at=START)
        await session.commit()


async def welcomes(rt: Runtime) -> list[ActionRecord]:
    async with rt.sessions() as session:
        return list((await session.scalars(
            select(ActionRecord).where(ActionRecord.feature == "welcome")
            .order_by(ActionRecord.seq))).all())


async def close_window(rt: Runtime, at_second: float = 60) -> int:
    return await rt.pipeline.tick(START + timedelta(seconds=at_second))


async def test_a_burst_of_joins_gets_one_welcome(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    joins = burst(20)  # 20 joins within the first minute, in two batches
    await rt.pipeline.ingest(org, joins[:12])
    await rt.pipeline.ingest(org, joins[12:])
    assert await close_window(rt, 59) == 0
    assert await close_window(rt, 60) == 1
    [action] = await welcomes(rt)
    names = "、".join(f"成员{i:02d}" for i in range(20))
    assert (action.type, action.group_pid) == ("message.send", "g1")
    assert action.data == {"text": f"欢迎 {names} {TAIL}"}
    assert await close_window(rt, 120) == 0


async def test_names_stop_at_max_names_with_the_count(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await configure(rt, org, max_names=3)
    await rt.pipeline.ingest(org, burst(25, apart=2))
    await close_window(rt)
    [action] = await welcomes(rt)
    assert action.data["text"] == f"欢迎 成员00、成员01、成员02 等 25 人 {TAIL}"


async def test_only_newcomers_still_there_are_named_once(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await rt.pipeline.ingest(org, [
        f.message("old", "我早就在群里了"),            # inside before qunyun: never welcomed
        f.joined("old", minutes=seconds(1)),         # …even when a join arrives after
        f.joined("a", name="阿兰", minutes=seconds(5)),
        f.joined("b", name="小白", minutes=seconds(10)),
        f.left("b", minutes=seconds(20)),            # left within the window: not named
        f.joined("c", name="小陈", minutes=seconds(25)),
        f.left("c", minutes=seconds(30)),
        f.joined("c", name="小陈", minutes=seconds(40)),  # came back: named once
        f.joined("a", name="阿兰", minutes=seconds(45)),  # a join resent by the platform
    ])
    await close_window(rt)
    [action] = await welcomes(rt)
    assert action.data["text"] == f"欢迎 阿兰、小陈 {TAIL}"


async def test_imported_history_is_not_welcomed(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    history = f.joined("h", name="旧事", minutes=-60 * 24)
    history["imported"] = True
    await rt.pipeline.ingest(org, [history])
    assert await close_window(rt) == 0  # nothing was scheduled
    assert await welcomes(rt) == []


async def test_each_window_gets_its_own_welcome(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await configure(rt, org, batch_seconds=30)
    await rt.pipeline.ingest(org, [f.joined("a", minutes=seconds(10)),
                                   f.joined("b", minutes=seconds(40)),
                                   f.joined("c", group="g2", minutes=seconds(41)),
                                   f.message("a", "大家好", minutes=seconds(61))])
    texts = sorted((a.group_pid, a.data["text"]) for a in await welcomes(rt))
    assert texts == [("g1", f"欢迎 a {TAIL}"), ("g1", f"欢迎 b {TAIL}"),
                     ("g2", "欢迎 c 加入g2！发送「签到」领取今日积分。")]


async def test_a_private_welcome_goes_to_each_newcomer(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await configure(rt, org, text="欢迎 {name}（第 {member_no} 位）",
                    private_text="{name}，欢迎加入{group}！"
                                 "你是第 {member_no} 位成员。群规：{rules}")
    async with rt.sessions() as session:
        await session.execute(update(Community).where(Community.org_id == org)
                              .values(rules="不发广告"))
        await session.commit()
    await rt.pipeline.ingest(org, [f.message("old", "早"),  # the group's first person
                                   f.joined("a", name="阿兰", minutes=seconds(5)),
                                   f.joined("b", name="小白", minutes=seconds(6))])
    await close_window(rt)
    group, *private = await welcomes(rt)
    assert group.data["text"] == "欢迎 阿兰、小白（第 2–3 位）"
    assert [(a.type, a.member_pid, a.data["text"]) for a in private] == [
        ("message.send_private", "a", "阿兰，欢迎加入g1！你是第 2 位成员。群规：不发广告"),
        ("message.send_private", "b", "小白，欢迎加入g1！你是第 3 位成员。群规：不发广告")]


async def test_the_rules_setting_and_member_numbers_win(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await configure(rt, org, text="", rules="文明交流",
                    private_text="{member_no} 号 {name}：{rules}")
    await rt.pipeline.ingest(org, [f.joined("a", name="阿兰")])
    async with rt.sessions() as session:
        await session.execute(update(Membership).values(member_no=88))
        await session.commit()
    await close_window(rt)
    [action] = await welcomes(rt)  # no group message: its text is empty
    assert (action.type, action.data["text"]) == ("message.send_private", "88 号 阿兰：文明交流")


async def test_the_welcome_reaches_the_playground(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await configure(rt, org, private_text="{name}，请看群规：{rules}", rules="友善交流")
    await rt.pipeline.ingest(org, [f.joined("p1", name="小林", platform="playground",
                                            group="room1")])
    await close_window(rt)
    await rt.delivery.run_once()
    assert [(i["action"]["type"], i["action"].get("member"), i["action"]["data"]["text"])
            for i in rt.playground.recent("room1")] == [
        ("message.send", None, "欢迎 小林 加入room1！发送「签到」领取今日积分。"),
        ("message.send_private", "p1", "小林，请看群规：友善交流")]


async def test_when_off_nobody_is_welcomed(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await configure(rt, org, enabled=False)
    await rt.pipeline.ingest(org, [f.joined("a")])
    await configure(rt, org, enabled=True)
    await rt.pipeline.ingest(org, [f.joined("b", minutes=seconds(70))])
    await configure(rt, org, enabled=False)  # turned off before b's window closed
    assert await close_window(rt, 300) == 1
    assert await welcomes(rt) == []


async def test_a_replay_records_the_same_actions(make_runtime: RuntimeFactory, twin_url: str,
                                                 tmp_path: Path) -> None:
    events = [*burst(5), f.left("u02", minutes=seconds(30)), f.joined("x", group="g2"),
              f.message("u00", "签到", minutes=seconds(61)), *burst(2, first_second=90, prefix="v"),
              f.message("u01", "你好", minutes=seconds(200))]
    live, org = await make_runtime()
    await configure(live, org, private_text="你好 {name}")
    await live.pipeline.ingest(org, events)
    config = Config(data_dir=tmp_path / "replay", database_url=twin_url)
    replayed = await build_runtime(config, clock=None, migrate=False, registry=live.registry,
                                   replay=True)
    try:
        replay_org = await ensure_default_org(replayed.sessions, START)
        await configure(replayed, replay_org, private_text="你好 {name}")
        await replayed.pipeline.ingest(replay_org, events)
        outcomes = [await _actions_and_jobs(rt) for rt in (live, replayed)]
    finally:
        await replayed.close()
    assert outcomes[0] == outcomes[1]
    actions, jobs = outcomes[0]
    group_messages, private_messages = 3, 4 + 1 + 2  # u02 left within the first window
    assert len(jobs) == 3
    assert sum(a[3] == "welcome" for a in actions) == group_messages + private_messages


async def _actions_and_jobs(rt: Runtime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with rt.sessions() as session:
        actions = (await session.execute(
            select(ActionRecord.id, ActionRecord.type, ActionRecord.member_pid,
                   ActionRecord.feature, ActionRecord.data, ActionRecord.caused_by)
            .order_by(ActionRecord.id))).all()
        jobs = (await session.execute(select(ScheduledJob.id, ScheduledJob.key, ScheduledJob.status)
                                      .order_by(ScheduledJob.id))).all()
    return [tuple(a) for a in actions], [tuple(j) for j in jobs]


# --- settings ----------------------------------------------------------------------------

HEAD = 'version = 1\nname = "p"\n[features.welcome]\n'
BAD_SETTINGS = {
    "unknown placeholder": ('text = "欢迎 {who}"',
                            [f"features.welcome.text: unknown placeholder {{who}}; {ALLOWED}"]),
    "positional placeholder": ('private_text = "欢迎 {}"',
                               [f"features.welcome.private_text: unknown placeholder {{}}; "
                                f"{ALLOWED}"]),
    "format spec": ('text = "第 {member_no:03d} 位"',
                    [f"features.welcome.text: unknown placeholder {{member_no:03d}}; {ALLOWED}"]),
    "attribute": ('text = "{name.upper}"',
                  [f"features.welcome.text: unknown placeholder {{name.upper}}; {ALLOWED}"]),
    "unclosed brace": ('text = "欢迎 {name"',
                       ["features.welcome.text: malformed template: a brace is not matched "
                        f"(write two braces for a literal one); {ALLOWED}"]),
    "stray closing brace": ('private_text = "欢迎 }"',
                            ["features.welcome.private_text: malformed template: a brace is not "
                             f"matched (write two braces for a literal one); {ALLOWED}"]),
    "no batching window": ("batch_seconds = 0",
                           ["features.welcome.batch_seconds: must be at least 1"]),
    "no names": ("max_names = 0", ["features.welcome.max_names: must be at least 1"]),
    "several at once": ('text = "{x}"\nmax_names = "20"',
                        [f"features.welcome.text: unknown placeholder {{x}}; {ALLOWED}",
                         "features.welcome.max_names: must be an integer"]),
}


@pytest.mark.parametrize("table, expected", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_settings_name_the_key_and_the_placeholders(table: str, expected: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + table + "\n", FeatureRegistry([WELCOME]))
    assert [str(e) for e in caught.value.errors] == expected


def test_the_contract_text_is_the_default_and_templates_parse() -> None:
    assert WELCOME.default_settings().model_dump()["text"] == \
        "欢迎 {name} 加入{group}！发送「签到」领取今日积分。"
    spec = parse_playbook(HEAD + 'text = "{{欢迎}} {name}，第 {member_no} 位：{rules}"\n'
                          'rules = "{随便写}"\n', FeatureRegistry([WELCOME]))
    assert spec.sections["welcome"]["rules"] == "{随便写}"  # rules are text, not a template
