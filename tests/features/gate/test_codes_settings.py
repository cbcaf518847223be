"""Invite codes (limits, expiry, revocation, attribution) and the gate's settings errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from qunyun.community.models import Membership
from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.features.gate import codes
from qunyun.features.gate.plugin import FEATURE
from qunyun.pipeline.playbook import parse_playbook
from tests import factories as f
from tests.conftest import START
from tests.features.gate.conftest import Gate

HEAD = 'version = 1\nname = "p"\n'


async def _code(gate: Gate, code: str, *, max_uses: int | None = None,
                expires_at: object = None, owner: str | None = None) -> int:
    async with gate.rt.sessions() as session:
        value = codes.check_code(code=code, max_uses=max_uses, expires_at=expires_at,  # type: ignore[arg-type]
                                 note="", at=START)
        spec = codes.CodeSpec(value, await gate.community(), None,
                              await gate.person(owner) if owner else None, "", max_uses,
                              expires_at)  # type: ignore[arg-type]
        made = await codes.do_create_code(session, org_id=gate.org, spec=spec,
                                          created_by="test", at=START)
        await session.commit()
        return made.id


async def test_codes_count_uses_expire_and_credit_their_owner(gate: Gate) -> None:
    await gate.configure()
    await gate.send(f.joined("owner", minutes=-60))
    await gate.configure(mode="code")
    await _code(gate, "once-1", max_uses=1, owner="owner")
    soon = await _code(gate, "SOON", expires_at=START + timedelta(hours=1))
    first = await gate.ask("a", "r1", code="ONCE-1")
    second = await gate.ask("b", "r2", code="once-1", minutes=1)
    late = await gate.ask("c", "r3", code="soon", minutes=61)
    assert [t for t, _ in await gate.actions(first["id"])] == ["join.approve",
                                                               "message.send_private"]
    assert next(t for t, _ in await gate.actions(second["id"])) == "join.reject"
    assert next(t for t, _ in await gate.actions(late["id"])) == "join.reject"
    assert [r.reason for r in await gate.requests()] == [
        "", "the invite code has been used up", "the invite code has expired"]
    async with gate.rt.sessions() as session:
        await codes.do_revoke(session, org_id=gate.org, code_id=soon, at=START)
        await session.commit()
    revoked = await gate.ask("d", "r4", code="SOON", minutes=2)
    assert next(t for t, _ in await gate.actions(revoked["id"])) == "join.reject"
    await gate.send(f.joined("a", minutes=3))
    async with gate.rt.sessions() as session:
        inviter = await session.scalar(select(Membership.inviter_person_id).where(
            Membership.person_id == await gate.person("a")))
        [used] = await codes.joined_with(session, code_id=1)
    assert inviter == await gate.person("owner") and used.member == "a"


def test_bad_code_requests_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        codes.check_code(code="x y", max_uses=0, expires_at=START - timedelta(days=1), note="",
                         at=START)
    assert [e.path for e in caught.value.errors] == ["code", "max_uses", "expires_at"]


@pytest.mark.parametrize(("section", "expected"), [
    ('mode = "vip"\n', "features.gate.mode: must be one of"),
    ('questions = ["a"]\nrules = [{question = "b"}]\n',
     "features.gate.rules: rule 1 names a question that is not in questions: b"),
    ('questions = ["a"]\nrules = [{question = "a", regex = "(x"}]\n',
     "features.gate.rules.0.regex: invalid regular expression at position 3"),
    ('mode = "paid"\n', "features.gate.price_cents: paid entry needs a price or an item"),
    ('questions = ["a", "a"]\n', "features.gate.questions: questions must differ"),
    ("timeout_hours = -1\n", "features.gate.timeout_hours: must not be negative"),
    ('colour = "red"\n', "features.gate.colour: unknown key"),
])
def test_errors_name_the_key_path(section: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + "[features.gate]\n" + section, FeatureRegistry([FEATURE]))
    assert expected in "\n".join(str(e) for e in caught.value.errors)


def test_a_valid_section() -> None:
    spec = parse_playbook(HEAD + '[features.gate]\nmode = "questionnaire"\nnumbering = true\n'
                          'questions = ["职业？"]\n'
                          '[[features.gate.rules]]\nquestion = "职业？"\nkeywords = ["设计"]\n',
                          FeatureRegistry([FEATURE]))
    assert spec.sections["gate"]["rules"][0]["keywords"] == ["设计"]
