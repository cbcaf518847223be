"""Pages of results: `limit` (default 50, at most 500) and `offset`, answered as items and total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
AnySelect = Select[*tuple[Any, ...]]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
    = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


async def count(session: AsyncSession, query: AnySelect) -> int:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


async def fetch_rows(session: AsyncSession, query: AnySelect,
                     page: PageParams) -> tuple[list[Any], int]:
    """One page of result rows (tuples) and the total the filters match."""
    rows = (await session.execute(query.limit(page.limit).offset(page.offset))).all()
    return list(rows), await count(session, query)


async def fetch_scalars(session: AsyncSession, query: AnySelect,
                        page: PageParams) -> tuple[list[Any], int]:
    """One page of entities (the query's first column) and the total the filters match."""
    rows = (await session.scalars(query.limit(page.limit).offset(page.offset))).all()
    return list(rows), await count(session, query)


def slice_page(items: list[T], page: PageParams) -> list[T]:
    return items[page.offset:page.offset + page.limit]
