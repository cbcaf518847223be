"""docs/platforms.md states what each platform does itself; it must agree with the adapters."""

from __future__ import annotations

import re
from pathlib import Path

from qunyun.core.actions import ACTION_TYPES
from qunyun.platforms import onebot, telegram, wecom

DOC = Path(__file__).resolve().parents[1] / "docs" / "platforms.md"
COLUMNS = {"QQ (OneBot v11)": onebot.CAPABILITIES, "Telegram (Bot API)": telegram.CAPABILITIES,
           "WeCom customer groups": wecom.CAPABILITIES}


def test_the_documented_matrix_is_the_code() -> None:
    rows = [line.strip("|").split("|") for line in DOC.read_text().splitlines()
            if line.startswith("| ")]
    header, *body = ([cell.strip() for cell in row] for row in rows)
    assert header[1:] == list(COLUMNS)
    documented = {re.sub(r"`", "", row[0]): row[1:] for row in body}
    assert sorted(documented) == sorted(ACTION_TYPES)
    for index, capabilities in enumerate(COLUMNS.values()):
        for action, cells in documented.items():
            native = cells[index] in ("yes", "mass-send task")
            assert native == (action in capabilities), (list(COLUMNS)[index], action)
