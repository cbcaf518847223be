"""`welcome` (进群欢迎): greets newcomers in the group, one message per burst of joins, and
optionally sends each of them a private welcome with the group rules (小窗).

Joins are batched in fixed windows of `batch_seconds` (aligned on the epoch, so every join of a
window schedules the same job); when the window closes, one message names everyone who joined in
it and is still there. Someone who left within the window is not named; someone who left and came
back is named once. Members qunyun first saw by their messages (inside before qunyun) and imported
history are never welcomed.

Templates take `{name}`, `{group}`, `{member_no}` and `{rules}`:
- `{name}`: the newcomer; in the group message, every newcomer of the window joined with 、 (at
  most `max_names`, then "等 N 人" with the total).
- `{member_no}`: the member number the community gave (编号), else the newcomer's place among
  everyone who has been in the group (第 N 位); for several newcomers, the lowest and highest
  ("101–120").
- `{rules}`: the `rules` setting, else the community's rules (群规).
An empty `text` sends no group message (only the private ones, if any).

The job reads who to greet from the memberships when it fires, so replays give the same
actions (job key `welcome:{group id}:{window start}`, action ids from the job). Limits: a join
that reaches qunyun after its window's welcome went out is not greeted; an imported join that
falls in a live window is named with the live ones (memberships do not say what was imported).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from qunyun.core import events as E
from qunyun.core.features import Feature, FeatureSettings
from qunyun.core.i18n import N_
from qunyun.features.welcome.handlers import handle, on_job
from qunyun.features.welcome.template import check_template

DEFAULT_TEXT = "欢迎 {name} 加入{group}！发送「签到」领取今日积分。"


class WelcomeSettings(FeatureSettings):
    enabled: bool = True
    text: str = Field(default=DEFAULT_TEXT, max_length=2000, description=(
        "The group message naming the newcomers of a window; placeholders {name}, {group}, "
        "{member_no}, {rules}; \"\" sends no group message."))
    private_text: str = Field(default="", max_length=2000, description=(
        "A private message (小窗) to each newcomer, same placeholders; \"\" sends none."))
    rules: str = Field(default="", max_length=4000, description=(
        "The group rules for {rules}; \"\" uses the community's rules."))
    batch_seconds: int = Field(default=60, ge=1, le=3600, description=(
        "Joins within one window of this many seconds get one welcome, sent when it closes."))
    max_names: int = Field(default=20, ge=1, le=100, description=(
        "Names in the group message; more newcomers are counted (等 N 人)."))

    @field_validator("text", "private_text")
    @classmethod
    def _valid_template(cls, value: str) -> str:
        return check_template(value)


FEATURE = Feature(
    name="welcome",
    title=N_("Welcome messages"),
    description=N_("Greets newcomers in the group, one message per burst of joins, and can send "
                   "each a private welcome with the rules."),
    order=100,
    events=frozenset({E.MEMBER_JOINED}),
    settings_model=WelcomeSettings,
    handle=handle,
    on_job=on_job,
    on_by_default=True,
    savepoint=False,  # writes nothing: the handler only schedules, the job only reads
)
