"""Build the running system: engine, sessions, registry, platforms, pipeline, delivery."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from qunyun.app.features import builtin_registry
from qunyun.community.models import Organization
from qunyun.community.service import do_create_community, do_create_organization
from qunyun.core.clock import Clock, ManualClock, SystemClock
from qunyun.core.config import Config, PlatformConfig
from qunyun.core.features import FeatureRegistry
from qunyun.core.platform import Platform, RateLimit, RateLimits
from qunyun.db.engine import create_engine, session_factory
from qunyun.db.migrate import upgrade
from qunyun.pipeline.delivery import Delivery
from qunyun.pipeline.runner import Pipeline
from qunyun.platforms.bridge import BridgePlatform
from qunyun.platforms.playground import PlaygroundPlatform

DEFAULT_ORG_SLUG = "default"


def _limits(config: PlatformConfig) -> RateLimits:
    return RateLimits(RateLimit(config.platform.rate, config.platform.burst),
                      RateLimit(config.group.rate, config.group.burst))


# Allocations between passes of the collector's youngest generation, and passes between
# passes of the older ones, once settled (CPython's defaults: 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)
DEFAULT_GC_THRESHOLDS = gc.get_threshold()


@dataclass
class Runtime:
    config: Config
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    registry: FeatureRegistry
    clock: Clock
    pipeline: Pipeline
    delivery: Delivery
    # Transactions that read and then write (see session_factory).
    write_sessions: async_sessionmaker[AsyncSession]
    platforms: dict[str, Platform] = field(default_factory=dict)

    @property
    def bridge(self) -> BridgePlatform:
        platform = self.platforms["bridge"]
        assert isinstance(platform, BridgePlatform)
        return platform

    @property
    def playground(self) -> PlaygroundPlatform:
        platform = self.platforms["playground"]
        assert isinstance(platform, PlaygroundPlatform)
        return platform

    def platform_for(self, name: str) -> Platform:
        """The adapter for `name`; platforms without a native adapter are served by the bridge."""
        return self.platforms.get(name) or self.platforms["bridge"]

    def settle(self) -> None:
        """Ready for a long run (blocking: a second or two): the features load what they would
        load on first use, what startup made is set aside from the garbage collector, whose
        full passes would otherwise walk it again and again, and the collector runs less
        often (a unit of work makes tens of thousands of short-lived objects; CPython's
        default of a pass every 700 allocations costs about a tenth of the pipeline's time)."""
        self.registry.warm_up()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    async def close(self) -> None:
        gc.unfreeze()  # what `settle` set aside may be garbage now
        gc.set_threshold(*DEFAULT_GC_THRESHOLDS)
        await self.engine.dispose()


async def build_runtime(config: Config, *, clock: Clock | None = None, replay: bool = False,
                        migrate: bool = True,
                        registry: FeatureRegistry | None = None,
                        platforms: dict[str, Platform] | None = None) -> Runtime:
    """Everything wired together. `replay`: the clock follows event time, nothing is delivered."""
    engine = create_engine(config.resolved_database_url)
    if migrate:
        await upgrade(engine)
    sessions = session_factory(engine)
    write_sessions = session_factory(engine, writer=True)
    registry = registry or builtin_registry()
    clock = clock or (ManualClock(datetime(1970, 1, 1, tzinfo=UTC)) if replay else SystemClock())
    adapters: dict[str, Platform] = {
        "bridge": BridgePlatform(_limits(config.platform("bridge"))),
        "playground": PlaygroundPlatform(_limits(config.platform("playground"))),
    }
    adapters.update(platforms or {})

    def capabilities(name: str) -> frozenset[str]:
        return (adapters.get(name) or adapters["bridge"]).capabilities

    pipeline = Pipeline(write_sessions, registry, clock, capabilities, record_only=replay)
    runtime = Runtime(config, engine, sessions, registry, clock, pipeline,
                      Delivery(sessions, lambda n: runtime.platform_for(n), config.platform,
                               clock, on_dispatched=lambda org: runtime.bridge.signal(org),
                               writer=write_sessions),
                      write_sessions, adapters)
    pipeline.on_commit.append(runtime.delivery.wake)
    return runtime


async def ensure_default_org(sessions: async_sessionmaker[AsyncSession], at: datetime,
                             slug: str = DEFAULT_ORG_SLUG, name: str = "默认组织") -> int:
    """The organization CLI commands use when none is named; created on first use."""
    async with sessions() as session:
        org_id = await session.scalar(select(Organization.id).where(Organization.slug == slug))
        if org_id is None:
            org = await do_create_organization(session, name=name, slug=slug, at=at)
            await do_create_community(session, org_id=org.id, name=name, at=at)
            org_id = org.id
            await session.commit()
        return int(org_id)
