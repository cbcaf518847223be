"""`qunyun bench dashboard`: server-side render times of the dashboard on a large organization.

A fresh database gets N groups, M members and E events (bulk-inserted, with 30 days of rollups);
then the overview (default sort, a filtered view, a sort by distinct speakers; the page and,
separately, the summary fragment it loads), a group page and a member page are requested
through the ASGI app, signed in as an owner, and timed: wall-clock and CPU time of the process
(the load average is printed too: on a busy machine wall-clock times say more about the
neighbours than about qunyun).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.progress import BarColumn, Progress, TextColumn

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.cli.bench import ServerOption, backend, fresh_database, ms, percentile, show
from qunyun.cli.bench_dashboard_data import Built, Scale, build
from qunyun.cli.bench_dashboard_writer import open_writer
from qunyun.cli.common import JsonOption, run
from qunyun.community.access import Scope
from qunyun.community.staff_service import cli_principal, do_create_staff
from qunyun.community.staff_sessions import open_session
from qunyun.core.config import Config
from qunyun.core.i18n import gettext
from qunyun.web.app import mount_dashboard
from qunyun.web.deps import SESSION_COOKIE

WARM_UP = 3


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("dashboard")(bench_dashboard)


def bench_dashboard(
    groups: Annotated[int, typer.Option(help="Groups.", min=1)] = 1000,
    members: Annotated[int, typer.Option(help="Members (persons).", min=1)] = 200_000,
    events: Annotated[int, typer.Option(help="Rows of the event log (10,000,000 for the "
                                             "full size; takes a few minutes).", min=1)]
    = 1_000_000,
    repeat: Annotated[int, typer.Option(help="Requests per page.", min=1)] = 30,
    db: ServerOption = None, as_json: JsonOption = False,
) -> None:
    """Render the overview and a group page on a large organization; p50/p95 in ms."""
    scale = Scale(groups=groups, members=members, events=events)
    figures = run(lambda: measure_dashboard(scale, repeat, db, quiet=as_json))
    show(gettext("Dashboard benchmark"), figures, as_json)


async def measure_dashboard(scale: Scale, repeat: int, server: str | None,
                            quiet: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qunyun-bench-") as workdir:
        async with fresh_database(server, Path(workdir)) as url:
            runtime = await build_runtime(Config(data_dir=Path(workdir), database_url=url))
            try:
                began = time.perf_counter()
                built = await _fill(runtime, url, scale, quiet)
                build_s = time.perf_counter() - began
                timings = await _time_pages(runtime, built, repeat)
            finally:
                await runtime.close()
    figures: dict[str, Any] = {
        "benchmark": "dashboard", "backend": backend(server), "groups": scale.groups,
        "members": scale.members, "memberships": built.memberships, "events": built.events,
        "speaker_rows": built.speaker_rows, "build_s": round(build_s, 1), "repeat": repeat}
    for page, samples in timings.items():
        for kind, values in (("", [wall for wall, _ in samples]),
                             ("_cpu", [cpu for _, cpu in samples])):
            figures[f"{page}{kind}_p50_ms"] = ms(percentile(values, 50))
            figures[f"{page}{kind}_p95_ms"] = ms(percentile(values, 95))
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures


async def _fill(runtime: Runtime, url: str, scale: Scale, quiet: bool) -> Built:
    org_id = await ensure_default_org(runtime.sessions, runtime.clock.now())
    today = runtime.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    writer = await open_writer(url)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"))
    try:
        with Progress(*columns, disable=quiet, transient=False) as progress:
            tasks: dict[str, Any] = {}

            def report(what: str, done: int) -> None:
                if what not in tasks:
                    total = scale.events if what == "events" else done
                    tasks[what] = progress.add_task(what, total=total)
                progress.update(tasks[what], completed=done)

            return await build(writer, org_id, scale, today, report)
    finally:
        await writer.close()


async def _owner_client(runtime: Runtime, org_id: int) -> httpx.AsyncClient:
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        user = await do_create_staff(session, principal=cli_principal(org_id),
                                     username="bench-owner", password="bench-password-1",
                                     role="owner", scope=Scope(), at=now)
        signed = await open_session(session, user=user, at=now)
        await session.commit()
    app = create_app(runtime)
    mount_dashboard(app, runtime)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                               headers={"Accept": "text/html"})
    client.cookies.set(SESSION_COOKIE, signed.token)
    return client


Sample = tuple[float, float]  # wall-clock seconds, CPU seconds of this process


async def _time_pages(runtime: Runtime, built: Built, repeat: int) -> dict[str, list[Sample]]:
    filtered = f"store={built.sample_store}&purpose=member"
    pages = {
        "overview": "/overview",
        "overview_summary": "/overview/summary",
        "overview_filtered": f"/overview?{filtered}",
        "overview_filtered_summary": f"/overview/summary?{filtered}",
        "overview_sorted_by_speakers": "/overview?sort=speakers",
        "group": f"/groups/{built.busiest_group}",
        "member": f"/members/{built.sample_person}",
    }
    timings: dict[str, list[Sample]] = {}
    async with await _owner_client(runtime, built.org_id) as client:
        for name, path in pages.items():
            for _ in range(WARM_UP):
                await _get(client, path)
            timings[name] = [await _get(client, path) for _ in range(repeat)]
    return timings


async def _get(client: httpx.AsyncClient, path: str) -> Sample:
    """The request's wall-clock time, and the CPU time the process spent on it (all threads:
    the database driver's too), which other work on a busy machine does not inflate."""
    began, cpu = time.perf_counter(), time.process_time()
    fragment = {"HX-Request": "true"} if "/summary" in path else {}
    response = await client.get(path, headers=fragment)
    elapsed = time.perf_counter() - began, time.process_time() - cpu
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return elapsed
