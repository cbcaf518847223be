"""`stats`: per group and local day — joins, leaves, messages, distinct speakers, and the first
messages of new members — kept as rollups."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature, FeatureSettings
from qunyun.core.i18n import N_
from qunyun.features.stats.handlers import handle


class StatsSettings(FeatureSettings):
    enabled: bool = True
    count_imported: bool = True  # imported history counts, so charts cover the group's past


FEATURE = Feature(
    name="stats",
    title=N_("Statistics"),
    description=N_("Daily joins, leaves, messages, speakers and new members' first messages."),
    order=900,  # after every feature that may stop propagation (a deleted spam is not counted)
    events=frozenset({E.MEMBER_JOINED, E.MEMBER_LEFT, E.MESSAGE_POSTED}),
    settings_model=StatsSettings,
    handle=handle,
    on_by_default=True,
    savepoint=False,
)
