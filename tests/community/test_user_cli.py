"""`qunyun user create|list|passwd`: the first owner, scoped staff, and clear refusals."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from qunyun.cli.common import config_for
from qunyun.cli.main import app
from qunyun.community.staff_service import get_staff_by_username
from qunyun.community.staff_sessions import password_matches
from qunyun.db.engine import create_engine, session_factory


async def password_hash(db: Path, org_id: int, username: str) -> str:
    engine = create_engine(config_for(str(db)).resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            return (await get_staff_by_username(session, org_id, username)).password_hash
    finally:
        await engine.dispose()


def test_user_create_list_and_passwd(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "qunyun.db")
    owner = runner.invoke(app, ["user", "create", "--db", db, "--username", "boss",
                                "--role", "owner", "--name", "老板"],
                          input="first password\nfirst password\n")
    assert owner.exit_code == 0, owner.output
    guide = runner.invoke(app, ["user", "create", "--db", db, "-u", "sh-guide", "--role",
                                "guide", "--store", "上海店", "--password", "guide password"])
    assert guide.exit_code == 0, guide.output

    listed = runner.invoke(app, ["user", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["username"]: row for row in json.loads(listed.stdout)}
    assert rows["boss"]["role"] == "owner" and rows["boss"]["scope"] is None
    assert rows["sh-guide"]["scope"] == {"communities": [], "stores": ["上海店"], "groups": []}
    org_id = 1
    assert password_matches(asyncio.run(password_hash(tmp_path / "qunyun.db", org_id, "boss")),
                            "first password")

    changed = runner.invoke(app, ["user", "passwd", "--db", db, "-u", "boss",
                                  "--password", "second password"])
    assert changed.exit_code == 0, changed.output
    assert password_matches(asyncio.run(password_hash(tmp_path / "qunyun.db", org_id, "boss")),
                            "second password")


def test_user_create_refuses_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "qunyun.db")
    result = runner.invoke(app, ["user", "create", "--db", db, "-u", "g", "--role", "guide",
                                 "--password", "short"])
    assert result.exit_code == 2
    assert "at least 8 characters" in result.output
    assert "a guide works on chosen communities" in result.output
    unknown = runner.invoke(app, ["user", "create", "--db", db, "-u", "gg", "--role", "guide",
                                  "--community", "没有的社群", "--password", "long enough"])
    assert unknown.exit_code == 2 and "没有的社群" in unknown.output
