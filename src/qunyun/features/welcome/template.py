"""Welcome templates: `{name}`, `{group}`, `{member_no}` and `{rules}`, checked when the settings
are read (a playbook, the dashboard) so a bad template never reaches a group.

Literal braces are written doubled (`{{` and `}}`), as in Python's str.format.
"""

from __future__ import annotations

from functools import lru_cache
from string import Formatter

from qunyun.core.errors import settings_error
from qunyun.core.i18n import N_

PLACEHOLDERS = ("name", "group", "member_no", "rules")
ALLOWED = ", ".join("{" + p + "}" for p in PLACEHOLDERS)


@lru_cache(maxsize=256)
def placeholders_of(template: str) -> frozenset[str]:
    """The placeholders a (valid) template uses."""
    return frozenset(field for _, field, _, _ in Formatter().parse(template) if field)


def check_template(template: str) -> str:
    """The template unchanged, or a settings error naming the problem and the placeholders."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError:
        raise settings_error(N_("malformed template: a brace is not matched (write two braces "
                                "for a literal one); allowed placeholders: {allowed}"),
                             allowed=ALLOWED) from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            written = "{" + field + (f"!{conversion}" if conversion else "") + \
                (f":{spec}" if spec else "") + "}"
            raise settings_error(N_("unknown placeholder {placeholder}; allowed placeholders: "
                                    "{allowed}"), placeholder=written, allowed=ALLOWED)
    return template


def render(template: str, *, name: str, group: str, member_no: str, rules: str) -> str:
    return template.format(name=name, group=group, member_no=member_no, rules=rules)
