"""Test-only features: the smallest handlers that exercise the pipeline's contract."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from qunyun.core import events as E
from qunyun.core.actions import ActionRequest, send_message
from qunyun.core.features import Feature, FeatureContext, FeatureSettings


class EchoSettings(FeatureSettings):
    enabled: bool = True
    prefix: str = "echo: "


async def _echo(ctx: FeatureContext) -> None:
    assert ctx.event is not None
    text_ = str(ctx.event.data.get("text", ""))
    if text_.startswith("echo"):
        ctx.emit(send_message(ctx.settings.prefix + text_, reply_to=ctx.event.data["message_id"]))


async def _stopper(ctx: FeatureContext) -> None:
    assert ctx.event is not None
    if "spam" in str(ctx.event.data.get("text", "")):
        ctx.emit(ActionRequest("message.delete", {"message_id": ctx.event.data["message_id"]}))
        ctx.emit(ActionRequest("member.mute", {"seconds": 600}, member=ctx.event.member))
        ctx.stop()


async def _broken(ctx: FeatureContext) -> None:
    # Writes something, asks for an action, then fails: none of it may survive.
    await ctx.session.execute(text("UPDATE organizations SET name = 'broken' WHERE id > 0"))
    ctx.emit(send_message("should never be sent"))
    raise RuntimeError("boom")


async def _remind(ctx: FeatureContext) -> None:
    assert ctx.event is not None
    if ctx.event.data.get("text") == "remind me":
        ctx.schedule("reminder", ctx.now + timedelta(minutes=10),
                     {"member": ctx.event.member}, key=f"remind:{ctx.event.member}")


async def _remind_job(ctx: FeatureContext) -> None:
    assert ctx.job is not None
    ctx.emit(send_message(f"reminder for {ctx.job.payload['member']} at {ctx.now.isoformat()}"))


def echo(order: int = 100) -> Feature:
    return Feature(name="echo", title="Echo", description="Replies to echo.", order=order,
                   events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings,
                   handle=_echo, on_by_default=True)


def stopper(order: int = 10) -> Feature:
    return Feature(name="stopper", title="Stopper", description="Deletes spam and stops.",
                   order=order, events=frozenset({E.MESSAGE_POSTED}),
                   settings_model=EchoSettings, handle=_stopper, on_by_default=True)


def broken(order: int = 50) -> Feature:
    return Feature(name="broken", title="Broken", description="Always fails.", order=order,
                   events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings,
                   handle=_broken, on_by_default=True)


def reminder() -> Feature:
    return Feature(name="reminder", title="Reminder", description="Reminds later.", order=200,
                   events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings,
                   handle=_remind, on_job=_remind_job, on_by_default=True)


async def _quote(ctx: FeatureContext) -> None:
    """Answers a reply by quoting the message it replies to, found through the context."""
    assert ctx.event is not None
    target = ctx.event.data.get("reply_to")
    if target:
        found = await ctx.find_message(str(target))
        ctx.emit(send_message(f"quote: {found.name}: {found.text}" if found else "quote: none"))


def quoter() -> Feature:
    return Feature(name="quoter", title="Quoter", description="Quotes replied-to messages",
                   order=100, events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings,
                   handle=_quote, on_by_default=True)


async def _chain(ctx: FeatureContext) -> None:
    assert ctx.event is not None
    if ctx.event.data.get("text") == "chain":
        ctx.schedule("link", ctx.now + timedelta(minutes=10), {"n": 1}, key="link:1")


async def _chain_job(ctx: FeatureContext) -> None:
    assert ctx.job is not None
    n = int(ctx.job.payload["n"])
    ctx.emit(send_message(f"link {n}"))
    if n < 3:
        ctx.schedule("link", ctx.now + timedelta(minutes=10), {"n": n + 1}, key=f"link:{n + 1}")


def chain() -> Feature:
    """Each job schedules the next, three links in all."""
    return Feature(name="chain", title="Chain", description="Jobs that schedule jobs.",
                   order=200, events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings,
                   handle=_chain, on_job=_chain_job, on_by_default=True)
