"""Points as CSV: export balances, import adjustments.

Export columns: person_id, display_name, accounts (`platform:user_id`, space separated),
balance, lifetime_earned.

Import: a header row with `account`, `amount` and optionally `note`; one adjustment a row.
`account` is a person number or `platform:user_id`; `amount` a non-zero integer (negative takes
points, never below zero). The whole file is checked first and every problem is reported with
its line and column; nothing is written unless every row is right. Each row's idempotency key
comes from the file's SHA-256 and the line number, so importing the same file again changes
nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Membership, Person, PlatformAccount
from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.i18n import N_
from qunyun.points import service as ledger
from qunyun.points.models import PointsBalance, PointsEntry

EXPORT_COLUMNS = ("person_id", "display_name", "accounts", "balance", "lifetime_earned")
IMPORT_COLUMNS = ("account", "amount", "note")
IMPORT = "import"
MAX_ROWS = 20_000
MAX_AMOUNT = 1_000_000
MAX_NOTE = 500


def visible_person(principal: Principal) -> ColumnElement[bool]:
    """Persons with a membership in a group the principal may see."""
    if principal.scope.whole_org:
        return true()
    return exists().where(Membership.person_id == Person.id,
                          Membership.group_id == Group.id, principal.group_clause())


async def export_csv(session: AsyncSession, *, principal: Principal, community_id: int) -> str:
    """Every person with points in the community the principal may see, by person number."""
    rows = (await session.execute(
        select(Person.id, Person.display_name, PointsBalance.balance,
               PointsBalance.lifetime_earned)
        .join(PointsBalance, PointsBalance.person_id == Person.id)
        .where(PointsBalance.community_id == community_id,
               Person.org_id == principal.org_id, visible_person(principal))
        .order_by(Person.id))).all()
    accounts = await _accounts(session, [r.id for r in rows])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow((row.id, row.display_name, " ".join(accounts.get(row.id, [])),
                         row.balance, row.lifetime_earned))
    return out.getvalue()


async def _accounts(session: AsyncSession, person_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(person_ids), 1000):
        rows = await session.execute(
            select(PlatformAccount.person_id, PlatformAccount.platform,
                   PlatformAccount.platform_user_id)
            .where(PlatformAccount.person_id.in_(person_ids[start:start + 1000]))
            .order_by(PlatformAccount.person_id, PlatformAccount.id))
        for person_id, platform, user_id in rows:
            found.setdefault(person_id, []).append(f"{platform}:{user_id}")
    return found


# --- import ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    person_id: int
    amount: int
    note: str
    key: str
    done: bool  # imported before (same file, same line): skipped


@dataclass(frozen=True, slots=True)
class ImportPlan:
    community_id: int
    digest: str
    rows: list[ImportRow]

    @property
    def new_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.done]


@dataclass(frozen=True, slots=True)
class _Raw:
    line: int
    account: str
    amount: str
    note: str


def parse_csv(data: bytes) -> list[_Raw]:
    """The data rows of an import file; InvalidInput for a file that is not one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the file is not UTF-8 text") from exc
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    errors = ErrorCollector()
    for column in ("account", "amount"):
        if column not in header:
            errors.add("header", N_("missing column {column}"), column=column)
    for column in header:
        if column not in IMPORT_COLUMNS:
            errors.add("header", N_("unknown column {column}"), column=column or "''")
    if errors:
        raise InvalidInput("the file cannot be imported", errors=errors.errors)
    at = {name: header.index(name) for name in header}
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        cells = [*record, *[""] * len(header)]
        rows.append(_Raw(reader.line_num, cells[at["account"]].strip(),
                         cells[at["amount"]].strip(),
                         cells[at["note"]].strip() if "note" in at else ""))
    if not rows:
        raise InvalidInput("the file has no rows to import")
    if len(rows) > MAX_ROWS:
        raise InvalidInput("the file has more than {limit} rows", limit=MAX_ROWS)
    return rows


async def check_import(session: AsyncSession, *, principal: Principal, community_id: int,
                       data: bytes) -> ImportPlan:
    """Check every row of the file; InvalidInput listing every problem (nothing applied)."""
    raws = parse_csv(data)
    digest = hashlib.sha256(data).hexdigest()
    people = await _resolve_accounts(session, principal, raws)
    keys = {raw.line: f"points:{IMPORT}:{community_id}:{digest[:40]}:{raw.line}"
            for raw in raws}
    done = await _used_keys(session, principal.org_id, list(keys.values()))
    errors = ErrorCollector()
    rows = []
    for raw in raws:
        person_id = people.get(raw.account)
        amount = _amount(raw, errors)
        if person_id is None:
            errors.add("account", N_("line {line}: no member {account} in your groups"),
                       line=raw.line, account=raw.account)
        if len(raw.note) > MAX_NOTE:
            errors.add("note", N_("line {line}: at most {limit} characters"), line=raw.line,
                       limit=MAX_NOTE)
        if person_id is not None and amount is not None:
            rows.append(ImportRow(raw.line, person_id, amount, raw.note, keys[raw.line],
                                  keys[raw.line] in done))
    await _check_balances(session, community_id, rows, errors)
    if errors:
        raise InvalidInput("the file cannot be imported", errors=errors.errors)
    return ImportPlan(community_id, digest, rows)


def _amount(raw: _Raw, errors: ErrorCollector) -> int | None:
    try:
        amount = int(raw.amount)
    except ValueError:
        errors.add("amount", N_("line {line}: must be a whole number, not {value}"),
                   line=raw.line, value=raw.amount[:20] or "''")
        return None
    if amount == 0 or abs(amount) > MAX_AMOUNT:
        errors.add("amount", N_("line {line}: must be between -{limit} and {limit}, not 0"),
                   line=raw.line, limit=MAX_AMOUNT)
        return None
    return amount


async def _resolve_accounts(session: AsyncSession, principal: Principal,
                            raws: Sequence[_Raw]) -> dict[str, int]:
    """{account as written: person id} of the accounts the principal may adjust."""
    numbers = {raw.account: int(raw.account) for raw in raws if raw.account.isdigit()}
    pairs = {raw.account: tuple(raw.account.split(":", 1)) for raw in raws
             if ":" in raw.account and not raw.account.isdigit()}
    found: dict[str, int] = {}
    visible = visible_person(principal)
    if numbers:
        ids = set((await session.scalars(select(Person.id).where(
            Person.org_id == principal.org_id, Person.id.in_(set(numbers.values())),
            visible))).all())
        found.update({a: p for a, p in numbers.items() if p in ids})
    for account, (platform, user_id) in pairs.items():
        person_id = await session.scalar(
            select(Person.id).join(PlatformAccount, PlatformAccount.person_id == Person.id)
            .where(PlatformAccount.org_id == principal.org_id,
                   PlatformAccount.platform == platform,
                   PlatformAccount.platform_user_id == user_id, visible))
        if person_id is not None:
            found[account] = person_id
    return found


async def _used_keys(session: AsyncSession, org_id: int, keys: list[str]) -> set[str]:
    used: set[str] = set()
    for start in range(0, len(keys), 1000):
        used.update((await session.scalars(select(PointsEntry.idempotency_key).where(
            PointsEntry.org_id == org_id,
            PointsEntry.idempotency_key.in_(keys[start:start + 1000])))).all())
    return used


async def _check_balances(session: AsyncSession, community_id: int, rows: list[ImportRow],
                          errors: ErrorCollector) -> None:
    """A row taking points must find them: the balance after the rows before it."""
    balances: dict[int, int] = {}
    for row in rows:
        if row.done:
            continue
        if row.person_id not in balances:
            balances[row.person_id] = (await ledger.balance(
                session, community_id=community_id, person_id=row.person_id)).balance
        if balances[row.person_id] + row.amount < 0:
            errors.add("amount", N_("line {line}: only {balance} points to take"),
                       line=row.line, balance=balances[row.person_id])
        else:
            balances[row.person_id] += row.amount


@dataclass(frozen=True, slots=True)
class ImportResult:
    applied: int
    skipped: int  # imported before
    points: int  # the sum of the amounts applied


async def do_import(session: AsyncSession, plan: ImportPlan, *, principal: Principal,
                    at: datetime) -> ImportResult:
    """Apply a checked plan as adjustments by the principal, audited; the caller commits."""
    applied = points = 0
    for row in plan.new_rows:
        entry = await ledger.do_adjust(session, org_id=principal.org_id,
                                       community_id=plan.community_id, person_id=row.person_id,
                                       amount=row.amount, actor=principal.actor, note=row.note,
                                       key=row.key, at=at, reason=IMPORT)
        if entry is not None:
            applied += 1
            points += row.amount
    result = ImportResult(applied, len(plan.rows) - applied, points)
    if applied:
        await do_record(session, principal=principal, action="points.import",
                        target_type="community", target_id=plan.community_id, before=None,
                        after={"file_sha256": plan.digest, "rows": applied, "points": points},
                        at=at)
    return result
