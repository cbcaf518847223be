"""`challenge` (打卡挑战): staff define an N-day challenge on the dashboard (name, groups or the
whole community, start and end day, keyword, optional text or picture, reminder hour, daily
and completion points). Members check in once a local day; a reminder at the set hour mentions
the participants who have not checked in yet; reaching the required days pays the completion
reward once; `挑战榜` shows the board. Off unless a playbook or the dashboard turns it on."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.features.challenge.handlers import handle, on_job
from qunyun.features.challenge.service import DEFAULT_KEYWORD
from qunyun.features.challenge.settings import ChallengeSettings


def usage(settings: ChallengeSettings, locale: str) -> list[str]:
    return [
        gettext("{keywords} [note]: check in to a running challenge once a day", locale,
                keywords=" / ".join([DEFAULT_KEYWORD, *settings.checkin_aliases])),
        gettext("{keywords}: the challenge board", locale,
                keywords=" / ".join(settings.board_keywords)),
    ]


FEATURE = Feature(
    name="challenge",
    title=N_("Check-in challenges"),
    description=N_("N-day challenges with a daily check-in, a reminder to those who have not "
                   "checked in, completion rewards and a board."),
    order=450,
    events=frozenset({E.MESSAGE_POSTED}),
    settings_model=ChallengeSettings,
    handle=handle,
    on_job=on_job,
    usage=usage,
    # Most messages are not for this feature: no SAVEPOINT per message; check-ins open their own.
    savepoint=False,
)
