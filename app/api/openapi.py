"""The OpenAPI 3.1 document, assembled from the route registry and the pydantic models' JSON Schema."""
from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import schemas
from app.api.idempotency import HEADER, MAX_KEY
from app.api.registry import OPERATIONS, Operation
from app.api.types import MAX_ID

REF = "#/components/schemas/{model}"
DESCRIPTIONS = {
    200: "OK", 201: "Created", 202: "Accepted: the job runs; poll the resource until done", 204: "Done; no content",
    400: "Malformed request (bad JSON, cursor or header)", 401: "Missing, unknown or revoked token",
    403: "Not allowed for your role or organisation", 404: "No such resource (or not visible to you)",
    409: "Conflict (an Idempotency-Key still in progress)", 413: "The upload is larger than allowed",
    415: "The body must be multipart/form-data", 422: "Invalid fields or a refused business rule",
    429: "Rate limit exceeded: retry after Retry-After seconds",
}
PATH_SCHEMAS = {
    "int": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "string": {"type": "string", "pattern": "^[a-z0-9_]{1,20}$"},
}


def _models() -> list[tuple[type[BaseModel], str]]:
    wanted: list[tuple[type[BaseModel], str]] = [(schemas.Problem, "serialization")]
    for op in OPERATIONS:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.form is not None:
            wanted.append((op.form, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _json(ref: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref}}


def _request_body(op: Operation, refs: dict) -> dict[str, Any] | None:
    """A JSON body, or a multipart/form-data one for uploads (file parts are binary strings)."""
    if op.body is not None:
        return {"required": True, "content": _json(refs[(op.body, "validation")])}
    if op.form is not None:
        return {"required": True, "content": {"multipart/form-data": {"schema": refs[(op.form, "validation")]}}}
    return None


def _success(op: Operation, refs: dict) -> dict[str, Any]:
    """The success response: a JSON model, or the bytes of a file in one of the media types it may have."""
    success: dict[str, Any] = {"description": DESCRIPTIONS.get(op.status, "OK")}
    if op.response is not None:
        success["content"] = _json(refs[(op.response, "serialization")])
    if op.produces:
        success["content"] = {media: {"schema": {"type": "string", "format": "binary"}} for media in op.produces}
    return success


def _operation(op: Operation, refs: dict) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        doc["description"] = op.description
    params = [{"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS.get(kind, PATH_SCHEMAS["string"])}
              for name, kind in op.path_params]
    if op.query is not None:
        params.extend(_query_parameters(op.query))
    if op.method == "POST" and op.auth:
        params.append({"name": HEADER, "in": "header", "required": False,
                       "description": "Repeat a POST safely: a replay with the same key returns the first response.",
                       "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY,
                                  "pattern": "^[A-Za-z0-9_.:-]+$"}})
    if params:
        doc["parameters"] = params
    body = _request_body(op, refs)
    if body is not None:
        doc["requestBody"] = body
    responses: dict[str, Any] = {str(op.status): _success(op, refs)}
    problem = {"application/problem+json": {"schema": refs[(schemas.Problem, "serialization")]}}
    for status in op.errors if op.auth else (400, 404):
        if status == 409 and op.method != "POST":
            continue
        entry: dict[str, Any] = {"description": DESCRIPTIONS[status], "content": problem}
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 429:
            entry["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}}
        responses[str(status)] = entry
    doc["responses"] = responses
    if not op.auth:
        doc["security"] = []
    return doc


@functools.cache
def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (built once per process)."""
    refs, definitions = models_json_schema(_models(), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gufei Exchange API",
            "version": "1.0.0",
            "description": (
                "JSON API of the Gufei Exchange solid-waste marketplace. Authenticate with a bearer token "
                "(create one on the API tokens page or with `flask --app wsgi create-token`). Tonnes and money "
                "are decimal strings, times ISO 8601 UTC. Lists use cursor pagination (`limit`, `cursor`, "
                "`next_cursor`). Errors are RFC 9457 problem documents. POSTs accept an `Idempotency-Key`."),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token, e.g. gf_…"}},
        },
    }
