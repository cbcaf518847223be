"""`qunyun members list --json` shows each member's points and level."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from typer.testing import CliRunner

from qunyun.app.bootstrap import build_runtime, ensure_default_org
from qunyun.cli.main import app
from qunyun.community.settings import ORGANIZATION, do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from tests import factories as f


async def _history(url: str, data_dir: Path) -> None:
    runtime = await build_runtime(Config(data_dir=data_dir, database_url=url),
                                  clock=ManualClock(f.BASE))
    try:
        org_id = await ensure_default_org(runtime.write_sessions, f.BASE)
        async with runtime.write_sessions() as session:
            await do_set_layer(session, org_id=org_id, scope=ORGANIZATION, scope_id=org_id,
                               feature="levels", values={"enabled": True,
                               "levels": [{"name": "新人", "threshold": 0},
                                          {"name": "达人", "threshold": 10}]}, at=f.BASE)
            await session.commit()
        await runtime.pipeline.ingest(org_id, [
            f.joined("u1", name="小林"), f.joined("u2", name="老王"),
            f.message("u1", "签到", minutes=1), f.message("u2", "大家好", minutes=2),
            f.message("u1", "今天天气不错", minutes=3)])
    finally:
        await runtime.close()


def test_members_list_shows_points_and_level(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    asyncio.run(_history(url, tmp_path))
    result = CliRunner().invoke(app, ["members", "list", "--group", "bridge:g1", "--db", url,
                                      "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in orjson.loads(result.stdout)}
    assert (rows["小林"]["points"], rows["小林"]["level"]) == (10, "达人")  # signed in: +10
    assert rows["老王"]["points"] == 0 and rows["老王"]["level"] in (None, "新人")
