"""Playbooks and layered settings: parse and validate a playbook file, apply it to groups, show
what it would change, and read or set the settings of each layer.

Layers, lowest first: feature defaults → organization → community → playbook → group.
"""

from qunyun.pipeline.playbook.apply import (
    EDITABLE_SCOPES,
    do_apply_playbook,
    do_set_group_setting,
    do_set_layer_values,
)
from qunyun.pipeline.playbook.effective import (
    GroupDiff,
    SettingChange,
    describe_settings,
    diff_playbook,
)
from qunyun.pipeline.playbook.schema import playbook_schema
from qunyun.pipeline.playbook.sections import section_names, section_path
from qunyun.pipeline.playbook.selection import (
    GroupSelection,
    check_groups_of_org,
    find_community,
    resolve_selection,
)
from qunyun.pipeline.playbook.spec import PLAYBOOK_VERSION, PlaybookSpec, parse_playbook

__all__ = [
    "EDITABLE_SCOPES", "PLAYBOOK_VERSION", "GroupDiff", "GroupSelection", "PlaybookSpec",
    "SettingChange", "check_groups_of_org", "describe_settings", "diff_playbook",
    "do_apply_playbook", "do_set_group_setting", "do_set_layer_values", "find_community",
    "parse_playbook", "playbook_schema", "resolve_selection", "section_names",
    "section_path",
]
