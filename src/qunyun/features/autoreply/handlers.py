"""A posted message → a rule's reply, or the FAQ's answer to a question.

The best matching rule answers (highest priority, then the first in the list); while that rule
cools down in the group it stays quiet and nothing else answers (a lower rule or the FAQ would
be a surprising second answer to the same words). Only messages without a rule match that look
like questions (`faq_search.is_question`) go to the FAQ. Other features still see every message:
an answer does not stop propagation (sign-in, points and statistics count it as usual).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from qunyun.community.models import Person
from qunyun.core.actions import send_message, send_private
from qunyun.core.features import FeatureContext
from qunyun.features.autoreply.answers import ANSWER, consult_faq
from qunyun.features.autoreply.batch import AutoreplyBatch, do_write
from qunyun.features.autoreply.faq_search import is_question, query_terms, signature
from qunyun.features.autoreply.matching import compiled_rules, render_reply
from qunyun.features.autoreply.settings import AutoreplySettings, Rule

SCRATCH = "autoreply"


async def handle(ctx: FeatureContext) -> None:
    event, group = ctx.event, ctx.group
    if event is None or group is None or event.member is None or event.imported:
        return
    text = event.data.get("text")
    if not isinstance(text, str) or not text.strip():
        return
    settings: AutoreplySettings = ctx.settings
    rule = compiled_rules(settings).match(text)
    if rule is not None:
        await _reply_by_rule(ctx, rule)
    elif settings.faq and group.community_id is not None and is_question(
            text, mentions=event.data.get("mentions") or (), bot_names=settings.bot_names):
        await _answer_question(ctx, settings, text, group.community_id)


def _batch(ctx: FeatureContext) -> AutoreplyBatch:
    batch = ctx.uow.scratch(SCRATCH, AutoreplyBatch)
    ctx.uow.before_commit(SCRATCH, lambda session: do_write(session, batch))
    return batch


async def _reply_by_rule(ctx: FeatureContext, rule: Rule) -> None:
    assert ctx.event is not None and ctx.group is not None and ctx.event.member is not None
    private = rule.reply_in == "private"
    # Private answers cool down per asker: others did not see them.
    key = (ctx.group.id, rule.key, ctx.event.member if private else "")
    batch = _batch(ctx)
    last = await batch.last_reply(ctx.session, key)
    if last is not None and ctx.now < last + timedelta(seconds=rule.cooldown_seconds):
        return
    name = await _asker_name(ctx, batch) if "{name}" in rule.reply else ""
    _send(ctx, render_reply(rule.reply, name=name, group=ctx.group.name, at=ctx.now,
                            timezone=ctx.group.timezone), private)
    batch.replied(key, ctx.now)


async def _answer_question(ctx: FeatureContext, settings: AutoreplySettings, text: str,
                           community_id: int) -> None:
    assert ctx.group is not None
    batch = _batch(ctx)
    terms = query_terms(text)
    outcome = consult_faq(await batch.faq(ctx.session, community_id), settings, terms)
    reply = outcome.reply(ctx.locale)
    if reply is None:
        batch.not_answered(org_id=ctx.group.org_id, community_id=community_id,
                           signature=signature(text, terms), text=text.strip(),
                           group_id=ctx.group.id, at=ctx.now)
        return
    if outcome.kind == ANSWER and outcome.hit is not None:
        batch.hit(outcome.hit.entry_id)
    _send(ctx, reply, settings.faq_reply_in == "private")


def _send(ctx: FeatureContext, text: str, private: bool) -> None:
    assert ctx.event is not None and ctx.event.member is not None
    if private:
        ctx.emit(send_private(ctx.event.member, text))
    else:
        ctx.emit(send_message(text, reply_to=str(ctx.event.data["message_id"])))


async def _asker_name(ctx: FeatureContext, batch: AutoreplyBatch) -> str:
    """The name the message came with, else the person's known name."""
    assert ctx.event is not None and ctx.event.member is not None
    name = ctx.event.data.get("name")
    if isinstance(name, str) and name:
        return name
    if ctx.member is None:
        return ctx.event.member
    person = ctx.member.person_id
    if person not in batch.names:
        known = await ctx.session.scalar(select(Person.display_name).where(Person.id == person)
                                         .execution_options(autoflush=False))
        batch.names[person] = str(known or ctx.event.member)
    return batch.names[person]
