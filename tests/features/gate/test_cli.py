"""`qunyun gate codes create|list|revoke`: codes made on the command line admit newcomers,
bad options name what is wrong and create nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from typer.testing import CliRunner

from qunyun.app.bootstrap import build_runtime, ensure_default_org
from qunyun.cli.main import app
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from tests import factories as f


async def _group(url: str, data_dir: Path) -> None:
    runtime = await build_runtime(Config(data_dir=data_dir, database_url=url),
                                  clock=ManualClock(f.BASE))
    try:
        org_id = await ensure_default_org(runtime.write_sessions, f.BASE)
        await runtime.pipeline.ingest(org_id, [f.joined("u7", name="老会员")])
    finally:
        await runtime.close()


def test_codes_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    asyncio.run(_group(url, tmp_path))
    cli = CliRunner()
    bad = cli.invoke(app, ["gate", "codes", "create", "--group", "bridge:g1", "--db", url,
                           "--code", "a b", "--owner", "nobody", "--days", "0"])
    assert bad.exit_code != 0
    assert "code" in bad.output and "owner" in bad.output and "days" in bad.output
    made = cli.invoke(app, ["gate", "codes", "create", "--group", "bridge:g1", "--db", url,
                            "--code", "vip2026", "--owner", "u7", "--max-uses", "5",
                            "--days", "30", "--json"])
    assert made.exit_code == 0, made.output
    code = orjson.loads(made.stdout)
    assert (code["code"], code["max_uses"], code["uses"]) == ("VIP2026", 5, 0)
    assert code["owner_person_id"] is not None and code["expires_at"] is not None
    listed = cli.invoke(app, ["gate", "codes", "list", "--db", url, "--json"])
    assert [c["code"] for c in orjson.loads(listed.stdout)] == ["VIP2026"]
    revoked = cli.invoke(app, ["gate", "codes", "revoke", "vip2026", "--db", url])
    assert revoked.exit_code == 0, revoked.output
    listed = cli.invoke(app, ["gate", "codes", "list", "--db", url, "--json"])
    assert orjson.loads(listed.stdout)[0]["revoked_at"] is not None
    unknown = cli.invoke(app, ["gate", "codes", "revoke", "NOPE1234", "--db", url])
    assert unknown.exit_code != 0
