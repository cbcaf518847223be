"""Synthetic community traffic: a stream of bridge-protocol events for replay, demos and benchmarks.

N groups and M members over some days, generated hour by hour (constant memory for millions of
events): heavy-tailed activity, a daily rhythm in the community's time zone, joins with inviters
and codes, quits, advertisers who get kicked, replies, mentions, sign-ins. The same parameters
give the same bytes: one seeded generator drawn in a fixed order, no set of strings iterated.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate, count
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import orjson

from qunyun.core.errors import InvalidInput

# Relative message volume by local hour: quiet at night, peaks morning, noon and evening.
HOUR_WEIGHTS = (0.15, 0.08, 0.04, 0.03, 0.03, 0.08, 0.35, 0.9, 1.3, 1.1, 0.9, 1.0,
                1.4, 1.2, 0.8, 0.7, 0.75, 0.85, 1.0, 1.5, 1.8, 1.6, 1.1, 0.5)
WEEKEND_FACTOR = 1.15
PARETO_ALPHA = 1.2  # roughly 20 % of members post 80 % of the messages
OWNER_WEIGHT = 2.0
CHURN = 0.12  # share of memberships that end by quitting within the period
# (purpose, liveliness, name) cycled over the groups; pop-up groups open during the period.
PURPOSES = (("member", 1.0, "会员群"), ("acquisition", 0.6, "福利群"), ("member", 1.0, "会员群"),
            ("conversion", 0.8, "新品体验群"), ("course", 1.3, "训练营"), ("member", 1.0, "会员群"),
            ("flash_sale", 0.7, "秒杀群"), ("partner", 1.5, "合伙人群"), ("popup", 1.2, "快闪群"))
# Join channel: (via, share, has an inviter)
JOIN_CHANNELS = (("invite", 45, True), ("qr", 25, True), ("link", 15, False),
                 ("search", 5, False), ("approval", 5, False), ("other", 5, False))
Event = dict[str, Any]
Entry = tuple[int, int, str, int, int]  # (epoch second, order, kind, member index, group index)


@dataclass(frozen=True, slots=True)
class SimulationParams:
    seed: int = 42
    groups: int = 12
    members: int = 2000
    days: int = 30
    start: date = date(2026, 11, 1)
    events: int | None = None  # approximate total; the stream never exceeds it
    platform: str = "playground"
    timezone: str = "Asia/Shanghai"
    messages_per_member_day: float = 0.8  # used when `events` is not given

    def check(self) -> None:
        for name in ("groups", "members", "days", "events"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidInput("{option} must be a positive integer", option=name)
        if self.timezone not in available_timezones():
            raise InvalidInput("unknown IANA time zone: {value}", value=self.timezone)


@dataclass(frozen=True, slots=True)
class SimGroup:
    platform_id: str
    name: str
    purpose: str
    owner: int  # member index of the group's owner (staff)
    created_at: int | None  # epoch seconds; None: the group existed before the period
    liveliness: float


@dataclass(slots=True)
class _Room:
    """Who is in a group right now, and what was said lately (for replies and mentions)."""

    inside: dict[int, float] = field(default_factory=dict)  # member index -> weight
    recent: deque[tuple[str, int]] = field(default_factory=lambda: deque(maxlen=30))
    weight: float = 0.0
    _speakers: tuple[list[int], list[float]] | None = None  # cached for weighted picks

    def add(self, member: int, weight: float) -> bool:
        fresh = member not in self.inside
        if fresh:
            self.inside[member] = weight
            self.weight += weight
            self._speakers = None
        return fresh

    def remove(self, member: int) -> bool:
        weight = self.inside.pop(member, None)
        if weight is not None:
            self.weight -= weight
            self._speakers = None
        return weight is not None

    def pick(self, rng: random.Random) -> int | None:
        """A speaker, chosen by activity weight (advertisers have none)."""
        if self._speakers is None:
            pool = [m for m, w in self.inside.items() if w > 0]
            self._speakers = pool, list(accumulate(self.inside[m] for m in pool))
        pool, cum = self._speakers
        return rng.choices(pool, cum_weights=cum)[0] if pool else None


def simulate(params: SimulationParams) -> Iterator[Event]:
    """Events in time order, with unique ids, as bridge-protocol dicts (a stream)."""
    params.check()
    return Simulation(params).events()


def simulate_jsonl(params: SimulationParams) -> Iterator[bytes]:
    """The same stream as JSON Lines, one encoded line per event."""
    for event in simulate(params):
        yield orjson.dumps(event) + b"\n"


class Simulation:
    def __init__(self, params: SimulationParams) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.zone = ZoneInfo(params.timezone)
        self.start_ts, self.end_ts = (
            int(datetime.combine(day, time(), self.zone).timestamp())
            for day in (params.start, params.start + timedelta(days=params.days)))
        self.hours = range(self.start_ts, self.end_ts, 3600)
        self._orders = count(1)  # ties between events of the same second keep plan order
        self._count = 0
        # The cast, by member index: platform ids, current display names, activity weights.
        self.user_ids, self.names, self.weights = list[str](), list[str](), list[float]()
        self.rooms: list[_Room] = []
        self.groups = self._make_groups()
        self._plan = self._make_plan()
        self._remaining_mass = sum(self._hour_mass(h) for h in self.hours)
        target = params.events if params.events is not None else \
            round(params.members * params.messages_per_member_day * params.days)
        self._remaining_messages = float(max(0, target - len(self._plan)))

    def events(self) -> Iterator[Event]:
        cap = self.p.events
        plan = iter(self._plan)
        pending = next(plan, None)
        for hour in self.hours:
            slots: list[Entry] = []
            while pending is not None and pending[0] < hour + 3600:
                slots.append(pending)
                pending = next(plan, None)
            slots.extend(self._message_slots(hour))
            slots.sort()
            for slot in slots:
                event = self._materialize(slot)
                if event is not None:
                    yield event
                    if cap is not None and self._count >= cap:
                        return

    def _hour_mass(self, hour: int) -> float:
        local = datetime.fromtimestamp(hour, self.zone)
        return HOUR_WEIGHTS[local.hour] * (WEEKEND_FACTOR if local.weekday() >= 5 else 1.0)

    def _message_slots(self, hour: int) -> list[Entry]:
        """Messages of one hour: the remaining volume spread over the remaining rhythm, so the
        total lands on the target; each group gets a share by its members' activity."""
        mass = self._hour_mass(hour)
        expected = max(0.0, self._remaining_messages * mass / max(self._remaining_mass, 1e-9))
        self._remaining_mass -= mass
        shares = [(i, r.weight * g.liveliness)
                  for i, (r, g) in enumerate(zip(self.rooms, self.groups, strict=True))
                  if r.weight > 0]  # a group not created yet has nobody in it
        total = sum(share for _, share in shares)
        slots: list[Entry] = []
        for index, share in shares:
            for _ in range(_poisson(self.rng, expected * share / total)):
                slots.append((hour + self.rng.randrange(3600), next(self._orders), "msg", -1,
                              index))
        self._remaining_messages -= len(slots)
        return slots

    def _materialize(self, slot: Entry) -> Event | None:
        ts, _, kind, member, index = slot
        room, group = self.rooms[index], self.groups[index]
        if kind == "msg":
            speaker = room.pick(self.rng)
            return None if speaker is None else self._message(ts, index, speaker)
        if kind == "group":
            room.add(group.owner, OWNER_WEIGHT)
            kind_name = "group.updated" if group.created_at is None else "group.created"
            return self._event(ts, kind_name, group.platform_id, self.user_ids[group.owner], {
                "name": group.name, "owner": self.user_ids[group.owner], "capacity": 500})
        if kind == "join":
            return self._join(ts, index, member) if room.add(member, self.weights[member]) \
                else None
        if kind in ("quit", "kicked"):
            by = {"by": self.user_ids[group.owner]} if kind == "kicked" else {}
            return self._event(ts, "member.left", group.platform_id, self.user_ids[member],
                               {"reason": kind, **by}) if room.remove(member) else None
        if member not in room.inside:
            return None
        if kind == "rename":
            self.names[member] = _nickname(self.rng)
            return self._event(ts, "member.renamed", group.platform_id, self.user_ids[member],
                               {"name": self.names[member]})
        return self._event(ts, "message.posted", group.platform_id, self.user_ids[member],
                           _advert_data(self.rng, self._message_id(), self.names[member]))

    def _event(self, ts: int, kind: str, group: str, member: str, data: dict[str, Any]) -> Event:
        self._count += 1
        return {"v": 1, "id": f"s{self.p.seed}-{self._count}", "type": kind,
                "platform": self.p.platform, "group": group, "member": member,
                "at": datetime.fromtimestamp(ts, self.zone).isoformat(), "data": data}

    def _message_id(self) -> str:
        return f"m{self.p.seed}-{self._count + 1}"

    def _join(self, ts: int, index: int, member: int) -> Event:
        room, group = self.rooms[index], self.groups[index]
        via, _, invited = self.rng.choices(JOIN_CHANNELS, weights=[c[1] for c in JOIN_CHANNELS])[0]
        data: dict[str, Any] = {"name": self.names[member], "via": via}
        inviter = room.pick(self.rng) if invited else None
        if inviter is not None and inviter != member:
            data["inviter"] = self.user_ids[inviter]
            if via == "qr":
                data["code"] = f"poster-{self.user_ids[inviter]}"
        elif via in ("qr", "link"):
            data["code"] = f"{via}-{group.platform_id}-{self.rng.randint(1, 5)}"
        return self._event(ts, "member.joined", group.platform_id, self.user_ids[member], data)

    def _message(self, ts: int, index: int, speaker: int) -> Event:
        room = self.rooms[index]
        message_id = self._message_id()
        data = _message_data(self.rng, message_id, datetime.fromtimestamp(ts, self.zone).hour,
                             self.names[speaker])
        if data["kind"] == "text" and room.recent and self.rng.random() < 0.16:
            reply_to, author = room.recent[self.rng.randrange(len(room.recent))]
            if author != speaker:
                if self.rng.random() < 0.6:
                    data["reply_to"] = reply_to
                data["mentions"] = [self.user_ids[author]]
                data["text"] = f"@{self.names[author]} {data['text']}"
        room.recent.append((message_id, speaker))
        return self._event(ts, "message.posted", self.groups[index].platform_id,
                           self.user_ids[speaker], data)

    def _new_member(self, user_id: str, name: str, weight: float) -> int:
        self.user_ids.append(user_id)
        self.names.append(name)
        self.weights.append(weight)
        return len(self.user_ids) - 1

    def _make_groups(self) -> list[SimGroup]:
        groups = []
        for i in range(self.p.groups):
            purpose, liveliness, label = PURPOSES[i % len(PURPOSES)]
            city = CITIES[i % len(CITIES)]
            owner = self._new_member(f"staff{i + 1:03d}", f"{city}店长", OWNER_WEIGHT)
            created = None
            if purpose == "popup":  # pop-up groups open during the first half of the period
                created = self.rng.randrange(self.start_ts, (self.start_ts + self.end_ts) // 2)
            name = f"青柚·{city}{label}{i // len(CITIES) + 1}"
            groups.append(SimGroup(f"g{i + 1:03d}", name, purpose, owner, created, liveliness))
            self.rooms.append(_Room())
            if created is None:
                self.rooms[-1].add(owner, OWNER_WEIGHT)
        return groups

    def _make_plan(self) -> list[Entry]:
        plan: list[Entry] = []
        for index, group in enumerate(self.groups):
            plan.append((group.created_at or self.start_ts, next(self._orders), "group",
                         group.owner, index))
        popularity = [self.rng.uniform(0.4, 1.6) for _ in self.groups]
        advertisers = self.p.members // 200 if self.p.members >= 50 else 0
        for n in range(self.p.members - advertisers):
            weight = min(self.rng.paretovariate(PARETO_ALPHA), 300.0)
            member = self._new_member(f"u{n + 1:06d}", _nickname(self.rng), weight)
            for index in self._pick_groups(popularity):
                self._plan_membership(plan, member, index)
        for n in range(advertisers):
            user_id = f"u{self.p.members - advertisers + n + 1:06d}"
            name = self.rng.choice(("福利官", "优惠小助手", "兼职", "代购")) + str(n + 100)
            member = self._new_member(user_id, name, 0.0)
            self._plan_advertiser(plan, member)
        plan.sort()
        return plan

    def _pick_groups(self, popularity: list[float]) -> list[int]:
        wanted = min(len(self.groups), self.rng.choices((1, 2, 3), weights=(70, 25, 5))[0])
        chosen: list[int] = []
        while len(chosen) < wanted:
            index = self.rng.choices(range(len(self.groups)), weights=popularity)[0]
            if index not in chosen:
                chosen.append(index)
        return chosen

    def _plan_membership(self, plan: list[Entry], member: int, index: int) -> None:
        rng, created = self.rng, self.groups[index].created_at
        if created is None and rng.random() < 0.75:
            self.rooms[index].add(member, self.weights[member])  # inside before the period
            since = self.start_ts
        else:  # a new group fills up quickly after it opens
            since = self._waking_time(created or self.start_ts, 1.0 if created is None else 2.5)
            plan.append((since, next(self._orders), "join", member, index))
        until = self.end_ts
        if rng.random() < CHURN and since + 120 < until:
            until = rng.randrange(since + 120, until)
            plan.append((until, next(self._orders), "quit", member, index))
        if rng.random() < 0.03 and since + 60 < until:
            plan.append((rng.randrange(since + 60, until), next(self._orders), "rename", member,
                         index))

    def _plan_advertiser(self, plan: list[Entry], member: int) -> None:
        rng = self.rng
        targets = rng.sample(range(len(self.groups)), k=min(len(self.groups), rng.randint(1, 3)))
        for index in targets:
            # Pop-up groups open in the first half of the period: there is always time left.
            at = self._waking_time(self.groups[index].created_at or self.start_ts, 1.0, 7200)
            plan.append((at, next(self._orders), "join", member, index))
            for _ in range(rng.randint(1, 3)):
                at += rng.randint(20, 900)
                plan.append((at, next(self._orders), "ad", member, index))
            if rng.random() < 0.8:
                plan.append((at + rng.randint(60, 5400), next(self._orders), "kicked", member,
                             index))

    def _waking_time(self, after: int, skew: float, margin: int = 120) -> int:
        """A time after `after` (earlier for skew > 1) at an hour people are awake: drawn
        uniformly, then kept with the probability of its hour in the daily rhythm."""
        top = max(HOUR_WEIGHTS)
        while True:
            at = after + 60 + int((self.end_ts - after - margin) * self.rng.random() ** skew)
            hour = datetime.fromtimestamp(at, self.zone).hour
            if self.rng.random() * top < HOUR_WEIGHTS[hour]:
                return at



def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 40:  # normal approximation; plenty for traffic volumes
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆",
          "苏州", "长沙")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂晨"
NICKS = ("跑步的猫", "柚子", "Lily", "小鱼", "木木", "Kevin", "晴天", "大熊", "一只羊", "Coco",
         "橙子", "Tony", "安安", "豆豆", "风一样的女子", "吃不胖", "Sunny", "阿宝")
CHATTER = ("早上好", "大家早", "今天有什么活动吗？", "这个优惠券怎么用", "收到", "哈哈哈哈",
           "门店几点开门？", "新品什么时候到货", "谢谢分享", "👍", "我也想要", "求链接", "已下单",
           "周末有人一起跑步吗", "今天的直播几点开始", "好的，谢谢店长", "有没有团购", "晚安",
           "上次买的很好用，回购了", "这个颜色还有货吗", "积分可以换什么", "中午吃啥", "同问",
           "刚到家，看看大家聊了啥", "支持一下", "太划算了", "能开发票吗", "明天见")
SIGN_IN = ("签到", "签到", "打卡", "今日签到")
ADVERTS = ("加微信 {wx} 领红包", "兼职刷单，日结三百，加V：{wx}", "低价代购大牌，私聊我",
           "免费领会员，点这里 {url}", "加我微信{wx}拉你进福利群", "高额返利，扫码进群 {url}")
KINDS = (("text", 80), ("image", 8), ("sticker", 6), ("voice", 3), ("link", 2), ("video", 1))


def _nickname(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    if roll < 0.7:
        return rng.choice(("小", "阿", "老")) + rng.choice(SURNAMES + GIVEN)
    return rng.choice(NICKS) + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")


def _message_data(rng: random.Random, message_id: str, local_hour: int,
                  name: str) -> dict[str, Any]:
    kind = rng.choices(KINDS, weights=[k[1] for k in KINDS])[0][0]
    data: dict[str, Any] = {"message_id": message_id, "kind": kind, "text": "", "name": name}
    if kind == "text":
        sign_in = 0.12 if 6 <= local_hour <= 9 else 0.015
        data["text"] = rng.choice(SIGN_IN) if rng.random() < sign_in else rng.choice(CHATTER)
    elif kind in ("image", "video"):
        data["media"] = {"url": f"https://media.example.com/{message_id}",
                         "size": rng.randint(20_000, 5_000_000)}
    elif kind == "voice":
        data["media"] = {"duration_s": rng.randint(2, 59)}
    elif kind == "link":
        data["urls"] = [f"https://shop.example.com/item/{rng.randint(1000, 9999)}"]
        data["text"] = "这个不错，大家看看 " + data["urls"][0]
    return data


def _advert_data(rng: random.Random, message_id: str, name: str) -> dict[str, Any]:
    wx, url = f"wx{rng.randint(10**7, 10**8 - 1)}", f"https://t.example.cn/{rng.randint(1, 99999)}"
    text = rng.choice(ADVERTS).format(wx=wx, url=url)
    data: dict[str, Any] = {"message_id": message_id, "kind": "text", "text": text, "name": name}
    if url in text:
        data["kind"], data["urls"] = "link", [url]
    return data
