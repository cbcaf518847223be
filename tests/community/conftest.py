"""Fixtures of the community tests."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

import qunyun.community.staff_sessions as staff_sessions


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id still, with small parameters: tests hash many passwords, production few."""
    monkeypatch.setattr(staff_sessions, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
