"""Every table of qunyun, imported in one place so the metadata is complete for migrations."""

from __future__ import annotations

from sqlalchemy import MetaData

import qunyun.community.audit
import qunyun.community.blacklist
import qunyun.community.models
import qunyun.community.staff
import qunyun.features.moderation.appeal_models
import qunyun.pipeline.models
import qunyun.points.models  # noqa: F401
from qunyun.app.features import import_feature_models
from qunyun.db.base import Base

import_feature_models()


def metadata() -> MetaData:
    return Base.metadata
