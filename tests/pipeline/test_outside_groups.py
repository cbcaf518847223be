"""Events outside any group (payments, private messages) see the organization's settings; a
feature that declares `outside_groups` sees them even where it is switched off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import Field

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.settings import do_set_layer
from qunyun.core import events as E
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from tests import factories as f
from tests.conftest import START

seen: list[tuple[str, bool, str]] = []


class NoteSettings(FeatureSettings):
    word: str = Field(default="default")


async def _note(ctx: FeatureContext) -> None:
    assert ctx.event is not None
    seen.append((ctx.event.id, ctx.settings.enabled, ctx.settings.word))


def _feature(name: str, *, outside: bool) -> Feature:
    return Feature(name=name, title=name, description=name, order=100,
                   events=frozenset({E.MESSAGE_PRIVATE}), settings_model=NoteSettings,
                   handle=_note, outside_groups=outside)


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    registry = FeatureRegistry([_feature("inbox", outside=True),
                                _feature("ordinary", outside=False)])
    rt = await build_runtime(Config(data_dir=tmp_path / "data", database_url=database_url),
                             clock=clock, migrate=False, registry=registry)
    yield rt
    await rt.close()


async def test_private_messages_get_the_organizations_settings(runtime: Runtime) -> None:
    seen.clear()
    org = await ensure_default_org(runtime.sessions, START)
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=org, scope="organization", scope_id=org,
                           feature="inbox", values={"word": "org"}, at=START)
        await session.commit()
    private = f.event("message.private", group=None, member="u1", message_id="p1",
                      kind="text", text="申诉")
    await runtime.pipeline.ingest(org, [private])
    assert seen == [(private["id"], False, "org")]  # off, yet it runs; the ordinary one does not
