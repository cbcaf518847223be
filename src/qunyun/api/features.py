"""`GET /features`: the registry — what each feature does, when it runs, what it can be set to."""

from __future__ import annotations

from fastapi import APIRouter

from qunyun.api.deps import ApiCaller, Locale, RuntimeDep
from qunyun.api.pagination import Page, PageDep, slice_page
from qunyun.api.schemas import FeatureOut
from qunyun.core.features import Feature
from qunyun.core.i18n import gettext

router = APIRouter(tags=["features"])


def feature_out(feature: Feature, locale: str) -> FeatureOut:
    return FeatureOut(
        name=feature.name, title=gettext(feature.title, locale),
        description=gettext(feature.description, locale), order=feature.order,
        events=sorted(feature.events), on_by_default=feature.on_by_default,
        settings_schema=feature.settings_model.model_json_schema())


@router.get("/features")
async def list_features(caller: ApiCaller, runtime: RuntimeDep, locale: Locale,
                        page: PageDep) -> Page[FeatureOut]:
    """Features in the order they run."""
    features = list(runtime.registry)
    return Page(items=[feature_out(f, locale) for f in slice_page(features, page)],
                total=len(features))
