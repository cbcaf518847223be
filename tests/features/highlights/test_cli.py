"""`qunyun highlights digest|list` on the database the pipeline wrote."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner, Result

from qunyun.app.bootstrap import Runtime
from qunyun.cli.main import app
from tests import factories as f
from tests.features.highlights.conftest import set_role


async def invoke(*args: str) -> Result:
    # The command runs its own event loop: give it a thread.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "200"})


async def seed(rt: Runtime, org: int) -> None:
    await rt.pipeline.ingest(org, [f.message("boss", "早", minutes=-5)])
    await set_role(rt, "boss", "owner")
    good = f.message("u1", "门店周六有试吃\n欢迎带朋友来", minutes=1, name="小王")
    dropped = f.message("u2", "取消的那条", minutes=2)
    await rt.pipeline.ingest(org, [
        good, dropped,
        f.message("boss", "精华", reply_to=good["data"]["message_id"], minutes=3),
        f.message("boss", "精华", reply_to=dropped["data"]["message_id"], minutes=4),
        f.message("boss", "取消精华", reply_to=dropped["data"]["message_id"], minutes=5)])


async def test_digest_as_markdown_and_html(rt: Runtime, org: int, database_url: str,
                                           tmp_path: Path) -> None:
    await seed(rt, org)
    markdown = await invoke("highlights", "digest", "--db", database_url, "--group", "bridge:g1",
                            "--week", "2026-W47")
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith("# ")
    assert "> 门店周六有试吃  \n> 欢迎带朋友来\n" in markdown.stdout
    assert "取消的那条" not in markdown.stdout and "2026-W47" in markdown.stdout

    out = tmp_path / "digest.html"
    html = await invoke("highlights", "digest", "--db", database_url, "-g", "bridge:g1",
                        "--week", "2026-W47", "--format", "html", "--out", str(out))
    assert html.exit_code == 0, html.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "小王" in page and "门店周六有试吃" in page

    empty = await invoke("highlights", "digest", "--db", database_url, "-g", "bridge:g1",
                         "--week", "2026-W46")
    assert empty.exit_code == 0 and "小王" not in empty.stdout


async def test_list_and_bad_input(rt: Runtime, org: int, database_url: str) -> None:
    await seed(rt, org)
    listed = await invoke("highlights", "list", "--db", database_url, "-g", "bridge:g1",
                          "--history", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["author"], r["unmarked"] is not None) for r in rows] == [
        ("u2", True), ("小王", False)]
    bad_week = await invoke("highlights", "digest", "--db", database_url, "-g", "bridge:g1",
                            "--week", "47")
    assert bad_week.exit_code == 2 and "2026-W47" in bad_week.output
    bad_format = await invoke("highlights", "digest", "--db", database_url, "-g", "bridge:g1",
                              "--format", "pdf")
    assert bad_format.exit_code == 2 and "md, html" in bad_format.output
    unknown = await invoke("highlights", "list", "--db", database_url, "-g", "bridge:nope")
    assert unknown.exit_code == 2
