"""The group page's platform panel: what the platform does itself, and delivery health."""

from __future__ import annotations

from datetime import timedelta

import httpx

from qunyun.app.bootstrap import Runtime
from qunyun.community.service import do_create_group
from qunyun.pipeline.models import ActionRecord
from tests.web.pages.conftest import Shop


async def _action(runtime: Runtime, shop: Shop, n: int, status: str, *, days_ago: float = 0,
                  error: str | None = None) -> None:
    at = runtime.clock.now() - timedelta(days=days_ago)
    async with runtime.write_sessions() as session:
        session.add(ActionRecord(
            id=f"a-test-{n}", org_id=shop.org_id, group_id=shop.shanghai, platform="bridge",
            group_pid="sh1", type="message.send", data={"text": "hi"}, caused_by="e",
            feature="welcome", status=status, attempts=1, last_error=error, created_at=at,
            finished_at=at))
        await session.commit()


async def test_capabilities_and_health(owner: httpx.AsyncClient, runtime: Runtime,
                                       shop: Shop) -> None:
    for n in range(3):
        await _action(runtime, shop, n, "done")
    await _action(runtime, shop, 3, "failed", error="retcode 1200: risk control")
    await _action(runtime, shop, 4, "failed", error="retcode 1200: risk control")
    await _action(runtime, shop, 5, "failed", days_ago=9, error="too old to count")
    html = (await owner.get(f"/groups/{shop.shanghai}")).text
    panel = html[html.index('id="platform"'):html.index('id="tasks"')]
    assert "删除消息" in panel and "cap-task" not in panel  # the bridge does everything
    assert "40.0 %" in panel  # 2 failed of 5 finished this week
    assert "retcode 1200: risk control</code> × 2" in panel
    assert "too old to count" not in panel


async def test_quiet_group_says_so(owner: httpx.AsyncClient, shop: Shop) -> None:
    html = (await owner.get(f"/groups/{shop.camp}")).text
    assert "最近 7 天没有向本群发送任何内容" in html


async def test_wecom_group_shows_staff_tasks(owner: httpx.AsyncClient, runtime: Runtime,
                                             shop: Shop) -> None:
    """No WeCom connection runs here: the page still tells what WeCom's API allows."""
    async with runtime.write_sessions() as session:
        group = await do_create_group(session, org_id=shop.org_id, platform="wecom",
                                      platform_id="wrOgAAA", name="企微客户群",
                                      at=runtime.clock.now(), community_id=shop.community_id)
        await session.commit()
    html = (await owner.get(f"/groups/{group.id}")).text
    panel = html[html.index('id="platform"'):html.index('id="tasks"')]
    kick = panel[panel.index("移出成员") - 200:panel.index("移出成员")]
    assert "cap-task" in kick
    assert "群主确认" in panel  # sending is a mass-send the owner confirms
