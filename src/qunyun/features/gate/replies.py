"""What the gate asks the platform to do about a decision, and what it tells the applicant.

A request the platform holds (`member.join_requested`) is answered with `join.approve` /
`join.reject`; a member who was let in before the gate could decide (`member.joined`) is removed
with `member.kick` when rejected — the pipeline turns that into a staff task on a platform that
cannot remove members. The applicant hears the outcome politely, privately, in the group's
language.
"""

from __future__ import annotations

from qunyun.core import actions as A
from qunyun.core.actions import ActionRequest, send_private
from qunyun.core.i18n import N_, gettext
from qunyun.features.gate.models import (
    APPROVED,
    EXPIRED,
    FROM_REQUEST,
    REJECTED,
    WAIT_PAYMENT,
    JoinRequest,
)

WELCOME_IN = N_("Welcome! Your request to join {group} was approved.")
REFUSED = N_("Sorry, your request to join {group} was not approved: {reason}.")
UNDER_REVIEW = N_("Thank you! Your request to join {group} was received; an administrator will "
                  "review it soon.")
PAY_FIRST = N_("To join {group}, please complete the payment of {price} first; you will be "
               "let in as soon as it arrives.")
PAY_ITEM_FIRST = N_("To join {group}, please purchase {item} first; you will be let in as soon "
                    "as the payment arrives.")
TOO_LATE = N_("Sorry, your request to join {group} expired before it could be decided.")
REMOVED = N_("Sorry, you were removed from {group}: {reason}.")


def price_text(cents: int, currency: str) -> str:
    amount = f"{cents // 100}.{cents % 100:02d}"
    return f"¥{amount}" if currency.upper() == "CNY" else f"{amount} {currency.upper()}"


def _message(request: JoinRequest, group: str, locale: str) -> str:
    reason = gettext(request.reason, locale) if request.reason else ""
    if request.status == APPROVED:
        return gettext(WELCOME_IN, locale, group=group)
    if request.status == EXPIRED:
        return gettext(TOO_LATE, locale, group=group)
    if request.status == REJECTED:
        key = REFUSED if request.source == FROM_REQUEST else REMOVED
        return gettext(key, locale, group=group, reason=reason)
    if request.waiting_for == WAIT_PAYMENT:
        if request.item and not request.price_cents:
            return gettext(PAY_ITEM_FIRST, locale, group=group, item=request.item)
        return gettext(PAY_FIRST, locale, group=group,
                       price=price_text(request.price_cents, request.currency))
    return gettext(UNDER_REVIEW, locale, group=group)


def outcome_actions(request: JoinRequest, *, group: str, group_platform_id: str | None,
                    locale: str, private: bool) -> list[ActionRequest]:
    """The platform actions and, if `private`, the applicant's message for the request's
    current state."""
    found: list[ActionRequest] = []
    to_platform = request.source == FROM_REQUEST
    if request.status == APPROVED and to_platform:
        found.append(ActionRequest(A.APPROVE_JOIN, {"request_id": request.request_id},
                                   member=request.member, group=group_platform_id))
    elif request.status in (REJECTED, EXPIRED):
        reason = gettext(request.reason, locale) if request.reason else ""
        if to_platform:
            data = {"request_id": request.request_id, **({"reason": reason} if reason else {})}
            found.append(ActionRequest(A.REJECT_JOIN, data, member=request.member,
                                       group=group_platform_id))
        else:
            found.append(ActionRequest(A.KICK_MEMBER, {}, member=request.member,
                                       group=group_platform_id))
    if private:
        message = send_private(request.member, _message(request, group, locale))
        found.append(ActionRequest(message.type, message.data, member=request.member,
                                   group=group_platform_id))
    return found


INVITE_LINK = N_("Your personal invite link to {group}: {link}\nNewcomers who join through it are "
                 "counted as your invitees.")


def invite_link_request(*, member: str, group: str, locale: str) -> ActionRequest:
    """Ask the platform for `member`'s personal invite link, sent to them privately. A platform
    without personal links turns it into a staff task (send the member a link by hand)."""
    text = gettext(INVITE_LINK, locale, group=group, link="{link}")
    return ActionRequest(A.SEND_INVITE_LINK, {"text": text}, member=member)
