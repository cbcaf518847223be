"""`moderation` (群规): the rules engine of a group — banned words on normalized text, contact
solicitation, links, flooding, mention-all, newcomer probation, regexes and a learning spam
classifier — with a ladder of consequences (delete, warn, mute, kick, block), the kick chain,
the blacklist, appeals in private, all-mute and night modes, and a dry run on history.
Off unless a playbook or the dashboard turns it on. Runs before the features that reward
messages: a deleted message earns no points."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.core.words import load_segmenter
from qunyun.features.moderation.handlers import handle, on_job
from qunyun.features.moderation.normalize import normalize
from qunyun.features.moderation.settings import ModerationSettings


def usage(settings: ModerationSettings, locale: str) -> list[str]:
    return [gettext("申诉 <reason> (in a private message to the bot): appeal an action taken "
                    "against you", locale)]


def warm_up() -> None:
    """Normalization's character tables and the spam classifier's tokenizer."""
    normalize("")
    load_segmenter()


FEATURE = Feature(
    name="moderation",
    title=N_("Moderation"),
    description=N_("Group rules: banned words, contact details, links, flooding, newcomer "
                   "limits and a spam filter, with warnings, mutes and kicks; all-mute and "
                   "quiet hours."),
    order=200,
    events=frozenset({E.MESSAGE_POSTED, E.MESSAGE_PRIVATE}),
    settings_model=ModerationSettings,
    handle=handle,
    on_job=on_job,
    usage=usage,
    # Most messages break no rule: no SAVEPOINT per message; punishing and switching a mode
    # open their own, the flood memory is one statement.
    savepoint=False,
    outside_groups=True,  # appeals arrive as private messages
    warm_up=warm_up,
)
