"""The demo community's engagement setup: which features are on, its keyword replies and FAQ.

Set at the community layer before the history is fed, so the month of simulated traffic earns
sign-ins, points and levels, and the FAQ sees the members' questions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.settings import do_set_layer
from qunyun.community.staff_service import cli_principal
from qunyun.core.features import FeatureRegistry
from qunyun.features.autoreply.service import check_faq_input, do_create_entry

FEATURES: dict[str, dict[str, Any]] = {
    "points": {"enabled": True},
    "levels": {"enabled": True},
    "leaderboard": {"enabled": True},
    "help": {"enabled": True},
    "redpacket": {"enabled": True},
    "highlights": {"enabled": True},
    "challenge": {"enabled": True},
    "autoreply": {"enabled": True, "rules": [
        {"name": "营业时间", "keywords": ["几点开门", "营业时间", "几点关门"], "match": "contains",
         "reply": "门店营业时间：每天 10:00–22:00，线上旗舰店 24 小时营业。"},
        {"name": "发票", "keywords": ["发票"], "match": "contains", "reply_in": "private",
         "reply": "{name} 你好，发票请在订单页「申请开票」，电子发票 1 个工作日内发到邮箱。"},
    ]},
}
FAQ = (
    ("积分可以换什么？", ["积分怎么用", "积分兑换"],
     "积分可在会员中心兑换优惠券和周边好礼，100 积分起兑；签到、发言和邀请好友都能赚积分。"),
    ("优惠券怎么用？", ["这个优惠券怎么用", "券怎么用"],
     "下单结算时选择「使用优惠券」即可，每单限用一张，过期自动失效。"),
    ("新品什么时候到货？", ["新品到货", "什么时候上新"],
     "新品每周五上架，群里会提前一天预告，会员可抢先试用。"),
    ("今天的直播几点开始？", ["直播几点", "直播时间"],
     "直播每周二、四晚 8 点开始，开播前群里会发提醒。"),
    ("有没有团购？", ["团购", "拼单"], "每周三有会员团购，满 5 人成团，群公告里有链接。"),
)


async def set_up_engagement(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                            community_id: int, at: datetime) -> None:
    for name, values in FEATURES.items():
        feature = registry.get(name)
        if feature is None:
            continue
        feature.settings_model.model_validate(values)  # the demo's own settings must be valid
        await do_set_layer(session, org_id=org_id, scope="community", scope_id=community_id,
                           feature=name, values=values, at=at)
    principal = cli_principal(org_id)
    for question, alternatives, answer in FAQ:
        data = check_faq_input(question=question, alternatives=alternatives, answer=answer)
        await do_create_entry(session, principal=principal, community_id=community_id,
                              data=data, at=at)
