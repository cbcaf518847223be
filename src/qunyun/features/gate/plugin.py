"""`gate` (入群门槛): who may enter a group — open, invite-only, invite codes, an application
questionnaire with auto-approval rules and an approval queue, paid entry — and member numbers
(编号) per community, never reused. Every decision is recorded as a join request.

Off by default. Payments belong to no group: the gate sees every one of them (it keeps them as
entitlements and lets the payer's pending paid request through, in whichever group)."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_
from qunyun.features.gate.handlers import handle, on_job
from qunyun.features.gate.settings import GateSettings

FEATURE = Feature(
    name="gate",
    title=N_("Entry gates"),
    description=N_("Decides who may enter a group (invitation, invite codes, questionnaire, "
                   "payment) and gives members their number."),
    order=50,  # before the welcome (100), which prints the number the gate gives
    events=frozenset({E.MEMBER_JOIN_REQUESTED, E.MEMBER_JOINED, E.PAYMENT_COMPLETED,
                       E.MESSAGE_POSTED}),
    settings_model=GateSettings,
    handle=handle,
    on_job=on_job,
    outside_groups=True,  # payments
)
