"""Chat → rules → consequences.

A posted message first meets the group's modes (all-mute, quiet hours), then, unless its author
has an exempt role, the blacklist and the rules (`rules.evaluate`, the function the dry run
uses too). A broken rule opens a case (once per event), deletes the message, applies the
ladder step the member's live offences earn, tells the member which rule, and stops
propagation: a deleted spam earns no points. Private messages go to appeals.
"""

from __future__ import annotations

from qunyun.community.blacklist import do_blacklist
from qunyun.core import events as E
from qunyun.core.actions import (
    DELETE_MESSAGE,
    KICK_MEMBER,
    MUTE_MEMBER,
    ActionRequest,
    send_message,
)
from qunyun.core.features import FeatureContext
from qunyun.features.moderation import appeals, kick_chain, modes, service
from qunyun.features.moderation.classifier import SpamClassifier, message_features
from qunyun.features.moderation.ladder import BLOCK, DELETE, KICK, MUTE, Step, notice, step_for
from qunyun.features.moderation.normalize import normalize
from qunyun.features.moderation.rules import (
    BLACKLIST,
    CLASSIFIER,
    Finding,
    MessageFacts,
    RuleSet,
    compile_rules,
    evaluate,
    fingerprint,
    message_facts,
    on_probation,
    rule_label,
)
from qunyun.features.moderation.settings import ModerationSettings

CLASSIFIER_SCRATCH = "moderation.classifier"
BLACKLIST_SCRATCH = "moderation.blacklisted"
FLOOD_SCRATCH = "moderation.flood"
DELIVER = "actions.deliver"  # a job carrying actions decided on the dashboard


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None:
        return
    if event.type == E.MESSAGE_PRIVATE:
        await appeals.handle_private(ctx)
        return
    if event.type != E.MESSAGE_POSTED or group is None or member is None or event.imported:
        return
    settings: ModerationSettings = ctx.settings
    if await modes.enforce(ctx, settings) or member.role in settings.exempt_roles:
        return
    rules = compile_rules(settings)
    facts = await _facts(ctx, settings)
    if settings.blacklist and await _blacklisted(ctx):
        await punish(ctx, rules, Finding(BLACKLIST, "org"), facts, step=Step(KICK))
        return
    finding = evaluate(rules, facts, classifier=await _classifier(ctx, settings))
    if finding is not None:
        await punish(ctx, rules, finding, facts)


async def _facts(ctx: FeatureContext, settings: ModerationSettings) -> MessageFacts:
    event, group, member = ctx.event, ctx.group, ctx.member
    assert event is not None and group is not None and member is not None
    normalized = normalize(str(event.data.get("text") or ""))
    newcomer = on_probation(messages_before=member.messages_before, joined_at=member.joined_at,
                            now=ctx.now, settings=settings,
                            known_before=member.seen_before_join)
    recent, groups = 1, 1
    if settings.flood.enabled:
        memory = ctx.uow.scratch(FLOOD_SCRATCH, service.FloodMemory)
        ctx.uow.before_commit(FLOOD_SCRATCH,
                              lambda session: service.do_write_recent(session, memory))
        recent, groups = await service.note_recent(
            ctx.session, memory, org_id=group.org_id, person_id=member.person_id,
            group_id=group.id, at=ctx.now,
            fingerprint=fingerprint(normalized, settings.flood.min_chars), flood=settings.flood)
    return message_facts(normalized, event.data, role=member.role, newcomer=newcomer,
                         recent_messages=recent, same_text_groups=groups)


async def _blacklisted(ctx: FeatureContext) -> bool:
    """Whether the member is on the blacklist; the organization's entries are read once per
    unit of work, a member's shared-list match once per member."""
    group, member = ctx.group, ctx.member
    assert group is not None and member is not None
    views: dict[int, service.BlacklistView] = ctx.uow.scratch(BLACKLIST_SCRATCH, dict)
    if group.org_id not in views:
        views[group.org_id] = await service.load_blacklist(ctx.session, group.org_id)
    return await service.is_blacklisted(ctx.session, views[group.org_id], org_id=group.org_id,
                                        person_id=member.person_id, at=ctx.now)


async def _classifier(ctx: FeatureContext, settings: ModerationSettings) -> SpamClassifier | None:
    """The organization's classifier, read once per unit of work."""
    if not settings.classifier.enabled or ctx.group is None:
        return None
    loaded: dict[int, SpamClassifier | None] = ctx.uow.scratch(CLASSIFIER_SCRATCH, dict)
    org_id = ctx.group.org_id
    if org_id not in loaded:
        loaded[org_id] = await service.load_classifier(ctx.session, org_id)
    return loaded[org_id]


async def punish(ctx: FeatureContext, rules: RuleSet, finding: Finding, facts: MessageFacts,
                 *, step: Step | None = None) -> None:
    """Open the case (once per event) and apply its consequences; propagation stops. The
    writes happen in a SAVEPOINT (the feature runs without one): all of them or none."""
    ctx.stop()
    async with ctx.session.begin_nested():
        await _punish(ctx, rules, finding, facts, step)


async def _punish(ctx: FeatureContext, rules: RuleSet, finding: Finding, facts: MessageFacts,
                  step: Step | None) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    assert event is not None and group is not None and member is not None
    settings = rules.settings
    before = await service.live_offences(ctx.session, person_id=member.person_id,
                                         since=rules.counts_since(ctx.now))
    step = step or step_for(rules.ladder, before)
    learn = settings.classifier.learn and finding.rule not in (CLASSIFIER, BLACKLIST) \
        and bool(facts.normalized.original.strip())
    detail = {**finding.detail(), "member": event.member, "group": event.group,
              "urls": list(facts.urls), "newcomer": facts.newcomer, "learned": learn}
    message_id = str(event.data["message_id"])
    case = await service.do_open_case(ctx.session, spec=service.CaseSpec(
        org_id=group.org_id, community_id=group.community_id, group_id=group.id,
        person_id=member.person_id, event_id=f"{event.platform}:{event.id}",
        message_id=message_id, text=facts.normalized.original, rule=finding.rule,
        category=finding.category, detail=detail,
        action=DELETE if step.kind == DELETE else f"{DELETE}+{step}", at=ctx.now),
        warnings=before + 1)
    if case is None:
        return  # this event was punished before
    ctx.emit(ActionRequest(DELETE_MESSAGE, {"message_id": message_id}))
    if settings.notify:
        name = str(event.data.get("name") or event.member or "")
        text = notice(step, rule=rule_label(finding.rule, ctx.locale), offences=before + 1,
                      locale=ctx.locale)
        ctx.emit(send_message(f"@{name} {text}", mentions=[str(event.member)]))
    await _consequence(ctx, settings, step)
    if step.kind == BLOCK and finding.rule != BLACKLIST:  # barred from every group of the org
        await do_blacklist(ctx.session, org_id=group.org_id, person_id=member.person_id,
                           reason=f"{finding.rule}: {facts.normalized.original[:200]}"
                           if facts.normalized.original.strip() else finding.rule,
                           added_by="moderation:block", at=ctx.now)
        views: dict[int, service.BlacklistView] = ctx.uow.scratch(BLACKLIST_SCRATCH, dict)
        if group.org_id in views:  # the rest of this unit of work sees the new entry
            views[group.org_id].expiry.setdefault(member.person_id, []).append(None)
    if learn:
        features = message_features(facts.normalized.original, newcomer=facts.newcomer,
                                    urls=facts.urls)
        await service.do_learn(ctx.session, org_id=group.org_id, features=features, spam=True,
                               at=ctx.now)


async def _consequence(ctx: FeatureContext, settings: ModerationSettings, step: Step) -> None:
    event, member = ctx.event, ctx.member
    assert event is not None and member is not None
    if step.kind == MUTE:
        ctx.emit(ActionRequest(MUTE_MEMBER, {"seconds": step.seconds}, member=event.member))
    elif step.removes:
        ctx.emit(ActionRequest(KICK_MEMBER, {"block": step.kind == BLOCK}, member=event.member))
        chain = settings.kick_chain
        if chain.enabled:
            for action in await kick_chain.chain_actions(
                    ctx, offender_person_id=member.person_id, days=chain.days, mode=chain.mode):
                ctx.emit(action)


async def on_job(ctx: FeatureContext) -> None:
    job = ctx.job
    if job is None:
        return
    if job.kind == appeals.DECIDED_JOB:
        await appeals.run_decided_job(ctx)
    elif job.kind == DELIVER:
        for raw in job.payload.get("actions", []):
            ctx.emit(ActionRequest(str(raw["type"]), dict(raw.get("data") or {}),
                                   member=raw.get("member"), group=raw.get("group")))
    elif job.kind in (modes.NIGHT_START, modes.NIGHT_END, modes.MODE_SYNC):
        await modes.on_mode_job(ctx)


def deliver_payload(actions: list[ActionRequest]) -> dict[str, object]:
    """The payload of a DELIVER job carrying `actions`."""
    return {"actions": [{"type": a.type, "data": dict(a.data), "member": a.member,
                         "group": a.group} for a in actions]}
