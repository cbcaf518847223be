"""`autoreply`: keyword rules (exact, contains, regex; priority, cooldown, reply in the group or
privately, variables) and an FAQ knowledge base per community that answers questions by
similarity, records the ones it could not answer and counts hits."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.core.words import load_segmenter
from qunyun.features.autoreply.handlers import handle
from qunyun.features.autoreply.settings import AutoreplySettings

USAGE_KEYWORDS = 6  # keywords listed by `help`


def usage(settings: AutoreplySettings, locale: str) -> list[str]:
    lines = []
    keywords = list(dict.fromkeys(k for rule in sorted(settings.rules, key=lambda r: -r.priority)
                                  if rule.match != "regex" for k in rule.keywords))
    if keywords:
        shown = "、".join(keywords[:USAGE_KEYWORDS])
        if len(keywords) > USAGE_KEYWORDS:
            shown += "…"
        lines.append(gettext("Send a keyword for a ready answer: {keywords}", locale,
                             keywords=shown))
    if settings.faq:
        lines.append(gettext("Ask a question (end it with ？) and the bot answers from the FAQ.",
                             locale))
    return lines


FEATURE = Feature(
    name="autoreply",
    title=N_("Auto-replies and FAQ"),
    description=N_("Keyword replies and answers to members' questions from the FAQ."),
    order=300,  # after moderation-type features: a deleted message gets no answer
    events=frozenset({E.MESSAGE_POSTED}),
    settings_model=AutoreplySettings,
    handle=handle,
    usage=usage,
    # Writes go through the batch's accumulator before commit; the handler itself only reads.
    savepoint=False,
    warm_up=load_segmenter,  # the FAQ tokenizes questions
)
