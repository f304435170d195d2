"""A small route registry: each API operation declares its schemas once, for validation and for OpenAPI."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from app.api import auth, errors, idempotency
from app.api.types import MAX_ID

PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
API_PREFIX = "/api/v1"
ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)
UPLOAD_ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429)


@dataclass(frozen=True)
class Operation:
    """One documented operation: path, method and the models of its input and output."""

    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: bool = True
    errors: tuple[int, ...] = ERROR_STATUSES
    form: type[BaseModel] | None = None
    produces: tuple[str, ...] = ()
    # Who may call it at all (an app.policy predicate of the user), checked before the input is read.
    allow: Callable[[Any], bool] | None = None
    path_params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def openapi_path(self) -> str:
        """The path in OpenAPI's {param} syntax."""
        return API_PREFIX + PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", self.rule)


OPERATIONS: list[Operation] = []


def _field_errors(exc: ValidationError, where: str) -> list[dict[str, str]]:
    out = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"]) or where
        out.append({"field": loc, "message": error["msg"]})
    return out


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.ApiError(422, _("The request has invalid fields."), errors=_field_errors(exc, where)) from None


def validate_model(model: type[BaseModel], data: Any, where: str = "body") -> BaseModel:
    """`data` as a `model`, or a 422 problem listing every invalid field."""
    return _validate(model, data, where)


def _json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.ApiError(400, _("The request body is not valid JSON."), slug="malformed-json",
                              errors=[{"field": "body", "message": _("Malformed JSON.")}]) from None


def _query_args(model: type[BaseModel]) -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in model.model_fields}


def _form_args(model: type[BaseModel]) -> dict[str, Any]:
    """The fields of a multipart/form-data body that `model` names: text parts and uploaded files."""
    if request.mimetype != "multipart/form-data":
        raise errors.ApiError(415, _("Send this request as multipart/form-data."),
                              errors=[{"field": "body", "message": _("Expected multipart/form-data.")}])
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k in model.model_fields}
    data.update({k: v for k, v in request.files.items() if k in model.model_fields})
    return data


def _check_path(kwargs: dict[str, Any]) -> None:
    for value in kwargs.values():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise errors.ApiError(404)


def to_response(result: Any, status: int) -> Response:
    """A JSON response from what a view returned: a model, a dict, or (value, status)."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        body = result.model_dump_json()
    else:
        body = json.dumps(result, ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json")


def _run(op: Operation, view: Callable, kwargs: dict[str, Any]) -> Response:
    """Authenticate, validate, call the view; any error becomes a problem document."""
    claimed = None
    try:
        user = auth.authenticate() if op.auth else None
        key = idempotency.key_of_request() if op.method == "POST" and user is not None else None
        if key is not None:
            claimed, replayed = idempotency.begin(user, key)
            if replayed is not None:
                return replayed
        if op.allow is not None:
            auth.require(op.allow(user))
        _check_path(kwargs)
        if op.query is not None:
            kwargs["query"] = _validate(op.query, _query_args(op.query), "query")
        if op.body is not None:
            kwargs["body"] = _validate(op.body, _json_body(), "body")
        if op.form is not None:
            kwargs["form"] = _validate(op.form, _form_args(op.form), "form")
        response = to_response(view(**kwargs), op.status)
    except Exception as exc:  # every error under /api/v1 is a problem document
        response = errors.from_exception(exc)
    if claimed is not None:
        idempotency.finish(claimed, response)
    return response


def operation(blueprint: Blueprint, method: str, rule: str, *, summary: str, tag: str, **options: Any):
    """Register a view as an API operation on `blueprint` and in the OpenAPI registry."""

    def decorator(view: Callable) -> Callable:
        endpoint = f"{tag}_{view.__name__}"
        op = Operation(rule=rule, method=method, endpoint=endpoint, summary=summary, tag=tag,
                       description=(view.__doc__ or "").strip(),
                       path_params=tuple((m.group(2), m.group(1) or "string") for m in PATH_PARAM.finditer(rule)),
                       **options)
        OPERATIONS.append(op)

        @wraps(view)
        def wrapped(**kwargs):
            return _run(op, view, kwargs)

        blueprint.add_url_rule(rule, endpoint, wrapped, methods=[method])
        return view

    return decorator
