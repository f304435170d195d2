"""API resource: the waste catalogue."""
from __future__ import annotations

from app.api import pagination, schemas
from app.api.blueprint import op
from app.extensions import db
from app.services import catalogue


def category_out(category) -> schemas.Category:
    """A category as the API shows it."""
    return schemas.Category.model_validate(category)


@op("GET", "/categories", summary="List waste categories", tag="categories", query=schemas.PageQuery,
    response=schemas.CategoryPage)
def list_categories(query: schemas.PageQuery):
    """Every category of the catalogue, newest id first."""
    rows = sorted(catalogue.categories(db.session), key=lambda c: c.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.CategoryPage(items=[category_out(c) for c in page], next_cursor=cursor)
