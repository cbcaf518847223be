"""The REST API (FastAPI): resources under `/api/v1` and the bridge protocol over HTTP."""

from qunyun.api.app import create_app

__all__ = ["create_app"]
