"""Playbooks: write, validate (every error with its key path), preview the diff, apply."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.community.models import Group, Playbook
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client

GOOD = """version = 1
name = "上海会员群标准"

[features.echo]
answer = "乓乓"
"""
BAD = """version = 1
name = "坏剧本"

[features.echo]
answer = 5

[features.nope]
enabled = true
"""


async def submit(client: httpx.AsyncClient, op: str, **data: str | list[str]) -> httpx.Response:
    token = csrf_of((await client.get("/playbooks/new")).text)
    return await client.post(f"/playbooks/{op}", data={"csrf_token": token, **data})


async def test_the_list_and_the_editor(owner: httpx.AsyncClient) -> None:
    listing = await owner.get("/playbooks")
    assert listing.status_code == 200 and 'href="/playbooks/new"' in listing.text
    editor = (await owner.get("/playbooks/new")).text
    assert 'name="source"' in editor and "version = 1" in editor
    assert (await owner.get("/playbooks/77")).status_code == 404


async def test_every_error_is_shown_with_its_key_path(owner: httpx.AsyncClient) -> None:
    response = await submit(owner, "preview", source=BAD, target="filters", tag="上海")
    assert response.status_code == 422
    html = response.text
    assert "<code>features.echo.answer</code>" in html
    assert "<code>features.nope</code>" in html
    assert "answer = 5" in html  # the text is kept as typed
    syntax = await submit(owner, "preview", source="version = \n", target="filters", tag="上海")
    assert syntax.status_code == 422 and "第 1 行" in syntax.text  # Chinese by default


async def test_preview_shows_the_changes_of_the_selection(owner: httpx.AsyncClient,
                                                          shop: Shop) -> None:
    response = await submit(owner, "preview", source=GOOD, target="filters", tag="上海")
    assert response.status_code == 200, response.text
    html = response.text
    diff = html[html.index("diff-group"):]
    assert "上海一店会员群" in diff and "北京会员群" not in diff
    assert "<code>echo.answer</code>" in diff and "&#34;乓乓&#34;" in diff
    chosen = await submit(owner, "preview", source=GOOD, target="groups",
                          groups=[str(shop.beijing), str(shop.camp)])
    assert "北京会员群" in chosen.text and "训练营" in chosen.text
    empty = await submit(owner, "preview", source=GOOD, target="groups")
    assert "field-error" in empty.text and "diff-group" not in empty.text


async def test_apply_stores_sets_and_audits(runtime: Runtime, shop: Shop) -> None:
    async with await signed_in_client(runtime, shop.org_id, "ops", "operator") as operator:
        response = await submit(operator, "apply", source=GOOD, target="filters",
                                community=str(shop.community_id), purpose="member")
        assert response.status_code == 303, response.text
        page = await operator.get(response.headers["location"])
        assert page.status_code == 200 and "上海会员群标准" in page.text
        listing = (await operator.get("/playbooks")).text
    async with runtime.sessions() as session:
        playbook = await session.scalar(select(Playbook))
        using = set(await session.scalars(select(Group.name).where(
            Group.playbook_id.is_not(None))))
        entry = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "playbook.apply"))
    assert playbook is not None and playbook.source == GOOD
    assert using == {"上海一店会员群", "北京会员群"}
    assert entry is not None and entry.actor == "staff:ops"
    assert entry.after is not None and entry.after["source"] == GOOD
    assert ">上海会员群标准</a>" in listing


async def test_a_guide_may_preview_but_not_apply(guide: httpx.AsyncClient,
                                                 runtime: Runtime, shop: Shop) -> None:
    preview = await submit(guide, "preview", source=GOOD, target="filters", purpose="member")
    assert "上海一店会员群" in preview.text and "北京会员群" not in preview.text
    refused = await submit(guide, "apply", source=GOOD, target="filters", purpose="member")
    assert refused.status_code == 403
    async with runtime.sessions() as session:
        assert (await session.scalars(select(Playbook))).all() == []


async def test_followers_outside_the_scope_block_applying(runtime: Runtime, shop: Shop,
                                                          owner: httpx.AsyncClient) -> None:
    everywhere = await submit(owner, "apply", source=GOOD, target="filters", purpose="member")
    assert everywhere.status_code == 303
    scope = Scope(whole_org=False, stores=frozenset({"上海店"}))
    async with await signed_in_client(runtime, shop.org_id, "sh-ops", "operator",
                                      scope) as operator:
        changed = GOOD.replace("乓乓", "改了")
        refused = await submit(operator, "apply", source=changed, target="groups",
                               groups=[str(shop.shanghai)])
    assert refused.status_code == 403
    async with runtime.sessions() as session:
        assert (await session.scalar(select(Playbook.source))) == GOOD
