"""`qunyun migrate`, `qunyun org create`, `qunyun token create`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from qunyun.cli.common import config_for
from qunyun.cli.main import app
from qunyun.community.service import access_token, get_organization_by_slug
from qunyun.db.engine import create_engine, session_factory


async def token_org(db: Path, token: str, kind: str) -> str:
    engine = create_engine(config_for(str(db)).resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            row = await access_token(session, token, kind)
            org = await get_organization_by_slug(session, "acme")
            assert row.org_id == org.id
            return org.name
    finally:
        await engine.dispose()


def test_migrate_org_and_token(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "qunyun.db"

    migrated = runner.invoke(app, ["migrate", "--db", str(db)])
    assert migrated.exit_code == 0, migrated.output
    created = runner.invoke(app, ["org", "create", "acme", "Acme 品牌", "--db", str(db)])
    assert created.exit_code == 0, created.output
    token = runner.invoke(app, ["token", "create", "--org", "acme", "--kind", "bridge",
                                "--name", "qq-bridge", "--db", str(db)])
    assert token.exit_code == 0, token.output

    printed = token.stdout.strip()
    assert printed.startswith("qyb_")
    assert asyncio.run(token_org(db, printed, "bridge")) == "Acme 品牌"


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "qunyun.db")
    assert runner.invoke(app, ["org", "create", "acme", "Acme", "--db", db]).exit_code == 0

    again = runner.invoke(app, ["org", "create", "acme", "Acme", "--db", db])
    unknown = runner.invoke(app, ["token", "create", "--org", "nope", "--name", "x", "--db", db])
    bad_kind = runner.invoke(app, ["token", "create", "--kind", "root", "--name", "x",
                                   "--db", db])

    assert again.exit_code == 2 and "exists already" in again.output
    assert unknown.exit_code == 2 and "no organization" in unknown.output
    assert bad_kind.exit_code == 2
