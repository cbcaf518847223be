"""Connections to chat platforms, as the config's `[[connections]]` list them.

Each platform with a native adapter has an app module (`qunyun.app.<platform>`) with
`connect(runtime, connection) -> Connector`: it validates the connection's options, registers the
platform's adapter in `runtime.platforms` (so delivery and capabilities find it) and returns the
connector whose `run` keeps the connection alive (a WebSocket, a long poll, a reconcile loop)
while the server runs. Webhook-style inbound traffic arrives through the API instead.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Protocol

from qunyun.core.config import ConnectionConfig
from qunyun.core.errors import ErrorCollector, InvalidInput

if TYPE_CHECKING:
    from qunyun.app.bootstrap import Runtime

CONNECTORS = {
    "onebot": "qunyun.app.onebot",
    "telegram": "qunyun.app.telegram",
    "wecom": "qunyun.app.wecom",
}


class Connector(Protocol):
    connection: ConnectionConfig

    async def run(self, stop: asyncio.Event) -> None: ...


def check_connections(connections: list[ConnectionConfig]) -> None:
    """Unknown platforms and repeated names are configuration errors, named by position."""
    errors = ErrorCollector()
    seen: set[tuple[str, str]] = set()
    for index, connection in enumerate(connections):
        if connection.platform not in CONNECTORS:
            errors.add(f"connections[{index}].platform", "must be one of: {choices}",
                       choices=", ".join(CONNECTORS))
        key = (connection.platform, connection.name)
        if key in seen:
            errors.add(f"connections[{index}].name", "is used twice")
        seen.add(key)
    if errors:
        raise InvalidInput("invalid connections", errors=errors.errors)


def connect_platforms(runtime: Runtime) -> list[Connector]:
    """Build every configured connection (adapters registered, loops not yet running)."""
    check_connections(runtime.config.connections)
    connectors: list[Connector] = []
    for connection in runtime.config.connections:
        module = importlib.import_module(CONNECTORS[connection.platform])
        connectors.append(module.connect(runtime, connection))
    return connectors
