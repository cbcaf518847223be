"""`redpacket` (红包): a member sends `发红包 <total> <shares> [拼手气|普通] [口令]`, paid from
their points; staff send from the dashboard, funded by the community. The first members who
send the claim keyword (抢红包, or the packet's 口令) each take one share; when the packet
expires the unclaimed rest goes back. Off unless a playbook or the dashboard turns it on."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.features.redpacket.handlers import handle, on_job, send_usage
from qunyun.features.redpacket.settings import RedpacketSettings


def usage(settings: RedpacketSettings, locale: str) -> list[str]:
    return [
        gettext("{command}: send a red packet of your points", locale,
                command=send_usage(settings, locale)),
        gettext("{keywords}: grab a share of a red packet", locale,
                keywords=" / ".join(settings.claim_keywords)),
    ]


FEATURE = Feature(
    name="redpacket",
    title=N_("Red packets"),
    description=N_("Members and staff send points as red packets, split at random or equally; "
                   "the first members to send the keyword grab the shares."),
    order=400,
    events=frozenset({E.MESSAGE_POSTED}),
    settings_model=RedpacketSettings,
    handle=handle,
    on_job=on_job,
    usage=usage,
    # Most messages are not for this feature: no SAVEPOINT per message; the writes (sending,
    # claiming, expiring) open their own.
    savepoint=False,
)
