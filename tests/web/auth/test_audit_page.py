"""The audit log page: newest first, filtered by actor and target type, paginated."""

from __future__ import annotations

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Principal
from qunyun.community.audit import do_record
from tests.web.auth.conftest import Org, signed_in


async def _record(runtime: Runtime, org_id: int, count: int) -> None:
    robot = Principal(org_id=org_id, role="admin", actor="token:robot")
    async with runtime.sessions() as session:
        for n in range(count):
            await do_record(session, principal=robot, action="settings.set",
                            target_type="group", target_id=n, before={"n": n},
                            after={"n": n + 1}, at=runtime.clock.now())
        await session.commit()


async def test_audit_page_filters_and_pages(runtime: Runtime, org: Org,
                                            staff: dict[str, int]) -> None:
    await _record(runtime, org.org_id, 60)
    async with signed_in(runtime, "boss") as client:
        page = await client.get("/audit", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        text = page.text
        assert text.index("staff.sign_in") < text.index("settings.set")  # newest first
        assert "Page 1 of 2" in text
        robot = await client.get("/audit?actor=token:robot&page=2")
        assert robot.status_code == 200
        assert robot.text.count("settings.set") == 10 and "staff.create" not in robot.text
        assert "&#34;n&#34;: 9" in robot.text  # the JSON of before, escaped in HTML
        staff_only = await client.get("/audit?target_type=staff")
        assert "settings.set" not in staff_only.text and "staff.create" in staff_only.text


async def test_audit_page_needs_the_audit_permission(runtime: Runtime, org: Org,
                                                     staff: dict[str, int]) -> None:
    async with signed_in(runtime, "sh-guide") as client:
        response = await client.get("/audit")
        assert response.status_code == 403
