"""The demo's governance day: after the month of history, the community turns moderation on and
one group asks newcomers a question before they may join. Then a short scene plays through the
real pipeline: an advertiser is warned twice and muted, another posts an ad, the first appeals
in a private message, two people apply to the questionnaire group (one let in at once, one left
for staff). So the 社群治理 pages open on a working day, not an empty one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.app.replay import event_lines, replay_into
from qunyun.community.models import Community, Group
from qunyun.community.settings import do_set_layer
from qunyun.pipeline.models import EventRecord

MODERATION = {
    "enabled": True,
    "banned_words": ["代开发票", "加微信领红包", "刷单"],
    "ladder": ["warn", "warn", "mute:600", "mute:86400", "kick"],
}
QUESTION = "你是在哪家门店认识我们的？"
GATE = {"enabled": True, "mode": "questionnaire", "numbering": True, "questions": [QUESTION],
        "rules": [{"question": QUESTION, "keywords": ["店"]}]}
STEP = timedelta(seconds=30)
SCENE_MINUTES = 15


async def set_up_governance(runtime: Runtime, *, org_id: int, community_id: int,
                            at: datetime) -> tuple[str, str]:
    """Moderation on for the community, a questionnaire gate on its first member group; the
    platform ids of the scene's two groups (where the ads appear, where people apply)."""
    registry = runtime.registry
    async with runtime.sessions() as session:
        groups = list(await session.scalars(
            select(Group).where(Group.org_id == org_id).order_by(Group.id)))
        busy = next((g for g in groups if g.purpose == "member"), groups[0])
        gated = next((g for g in groups if g.purpose == "course"), groups[-1])
        for feature, scope, scope_id, values in (
                ("moderation", "community", community_id, MODERATION),
                ("gate", "group", gated.id, GATE)):
            known = registry.get(feature)
            if known is None:
                continue
            known.settings_model.model_validate(values)  # the demo's own settings must be valid
            await do_set_layer(session, org_id=org_id, scope=scope, scope_id=scope_id,
                               feature=feature, values=values, at=at)
        await session.commit()
    return busy.platform_id, gated.platform_id


def scene(platform: str, busy: str, gated: str, start: datetime,
          end: datetime) -> list[dict[str, Any]]:
    """The events of the scene, after `start` and before `end`, at most STEP apart."""
    said: list[tuple[str, str | None, str, dict[str, Any]]] = [
        ("member.joined", busy, "demo-ad-1", {"name": "优惠小助手", "via": "link"}),
        ("message.posted", busy, "demo-ad-1", _text("m-ad-1", "加微信领红包！V信 138 0013 8000")),
        ("message.posted", busy, "demo-ad-1", _text("m-ad-2", "代 開 發 票，加V详聊")),
        ("message.posted", busy, "demo-ad-1", _text("m-ad-3", "刷单兼职日结，私聊我")),
        ("member.joined", busy, "demo-ad-2", {"name": "福利官", "via": "qr"}),
        ("message.posted", busy, "demo-ad-2", _text("m-ad-4", "加微信领红包，名额有限")),
        ("message.private", None, "demo-ad-1", _text("p-ad-1", "申诉 我只是想分享优惠信息")),
        ("member.join_requested", gated, "demo-ap-1",
         {"request_id": "req-1", "name": "陈晓", "answers": {QUESTION: "上海静安店的店员推荐"}}),
        ("member.join_requested", gated, "demo-ap-2",
         {"request_id": "req-2", "name": "路人甲", "answers": {QUESTION: "朋友发的链接"}}),
    ]
    step = min(STEP, (end - start) / (len(said) + 1))
    return [{"v": 1, "id": f"demo-governance-{n}", "type": kind, "platform": platform,
             **({"group": group} if group else {}), "member": member,
             "at": (start + n * step).isoformat(), "data": data}
            for n, (kind, group, member, data) in enumerate(said, start=1)]


def _text(message_id: str, text: str) -> dict[str, Any]:
    return {"message_id": message_id, "kind": "text", "text": text}


async def play_governance_day(runtime: Runtime, *, org_id: int, platform: str,
                              now: datetime) -> int:
    """Switch the rules on and play the scene after the last event of the history."""
    async with runtime.sessions() as session:
        community_id = await session.scalar(select(func.min(Community.id))
                                            .where(Community.org_id == org_id))
    assert community_id is not None
    busy, gated = await set_up_governance(runtime, org_id=org_id, community_id=community_id,
                                          at=now - timedelta(minutes=SCENE_MINUTES + 1))
    async with runtime.sessions() as session:
        last = await session.scalar(select(func.max(EventRecord.at))
                                    .where(EventRecord.org_id == org_id))
    start = max(last or now, now - timedelta(minutes=SCENE_MINUTES)).astimezone(now.tzinfo)
    events = scene(platform, busy, gated, start, now)
    summary = await replay_into(runtime, org_id, event_lines(events))
    return summary.accepted
