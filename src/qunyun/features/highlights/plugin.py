"""`highlights` (群精华): group admins keep the best messages by replying to them with a command,
staff mark them from the dashboard, and every week the group gets a digest of its highlights."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.features.highlights.handlers import handle, on_job
from qunyun.features.highlights.settings import WEEKDAYS, HighlightsSettings, roles_text


def usage(settings: HighlightsSettings, locale: str) -> list[str]:
    lines = [
        gettext("Reply to a message with “{word}” to keep it as a highlight ({roles})", locale,
                word=settings.keywords[0], roles=roles_text(settings, locale)),
        gettext("Reply to a highlight with “{word}” to remove it", locale,
                word=settings.unmark_keywords[0]),
    ]
    if settings.digest_in_group:
        lines.append(gettext("Every {weekday} at {hour}:00 the week's highlights are posted here",
                             locale, weekday=gettext(WEEKDAYS[settings.digest_weekday], locale),
                             hour=f"{settings.digest_hour:02d}"))
    return lines


FEATURE = Feature(
    name="highlights",
    title=N_("Highlights"),
    description=N_("Admins keep the best messages as highlights; a weekly digest per group."),
    order=600,
    events=frozenset({E.MESSAGE_POSTED, E.MESSAGE_RECALLED}),
    settings_model=HighlightsSettings,
    handle=handle,
    on_job=on_job,
    usage=usage,
    savepoint=False,  # ordinary messages cause no I/O; commands take their own savepoint
)
