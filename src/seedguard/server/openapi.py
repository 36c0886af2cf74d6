"""The OpenAPI schema as the contract: every status a route answers, the `{"error": ...}` shape,
exact base64url lengths, the vault's raw body and precondition headers (docs/api.md).

FastAPI declares only the success status and its own 422 (`{"detail": [...]}`), which is not
what this server answers; the generated schema is completed here, once, from the table below.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

ERROR = {"$ref": "#/components/schemas/Error"}
PENDING = {"$ref": "#/components/schemas/Pending"}

WHY = {
    202: "Recorded, not done: the account's delay applies (repeat after `release_at`), unless "
    "another device cancels it.",
    400: "A value is wrong (not base64url, the wrong length, a NUL character, a bad proof).",
    401: "No session token, a malformed one, or one that expired or was revoked.",
    403: "The proof or credential is wrong, or the device was revoked.",
    404: "No such object, or it belongs to another account.",
    408: "The request's headers or body did not arrive in time.",
    409: "The state does not allow it now (already done, another generation, a conflict).",
    410: "Gone: cancelled, expired or destroyed.",
    412: "The precondition (If-Match / If-None-Match) does not hold.",
    413: "The body, or a value in it, is too large, or a quota is full.",
    422: "The body or a parameter does not have the documented shape.",
    425: "Too early: the owner's delay has not passed.",
    428: "A precondition header is required (If-None-Match: * or If-Match).",
    429: "Too many requests, or a per-account limit is reached (the message names it).",
    503: "The database cannot be reached now: try again.",
}

# The statuses each route answers besides its success, 422, 429 and 503 (every route), 401
# (every route with a token), 400 (every route with a parameter or a body) and 413 (a body).
EXTRA: dict[str, tuple[int, ...]] = {
    "token": (403, 409),
    "revoke": (202, 403, 404, 409),
    "revoke_with_proof": (202, 403, 404, 409),
    "add_credential": (202, 403, 409),
    "cancel_pending": (404,),
    "get_object": (404,),
    "head_object": (404,),
    "put_object": (409, 412, 428),
    "delete_object": (404, 412),
    "create_key": (409,),
    "key_verifier": (403, 404, 409),
    "evaluate": (404, 410),
    "prove": (403, 404, 410),
    "delete_key": (404,),
    "key_state": (404,),
    "deposit": (404,),
    "read_mailbox": (404,),
    "set_delay": (202, 403),
    "request_info": (404,),
    "approve": (404, 410),
    "set_webhook": (202, 403),
    "shares": (404, 409, 410, 425),
    "mpc_wallet": (404,),
    "mpc_dkg1": (404, 409, 410),
    "mpc_dkg2": (404, 409, 410),
    "mpc_dkg3": (404, 409, 410),
    "mpc_nonces": (404, 409),
    "mpc_sign": (403, 404, 409),
    "mpc_sign_psbt": (202, 403, 404, 409),
    "mpc_policy": (404,),
    "mpc_set_policy": (202, 403, 404),
    "mpc_repair": (202, 403, 404, 409),
    "mpc_challenge": (404, 409),
    "mpc_cloud": (202, 403, 404, 409),
    "mpc_refresh": (403, 404, 409),
    "mpc_commit": (403, 404, 409),
}
NO_DATABASE = {"livez", "metrics"}
# Base64url (no padding) fields by decoded size: their exact length in characters.
EXACT = {"handle": 32, "verifier": 32, "proof": 32, "credential": 32, "challenge": 32}


def b64_length(size: int) -> int:
    return (size * 8 + 5) // 6


def contract(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What is wrong, what to do."}},
    }
    components["Pending"] = {
        "type": "object",
        "required": ["message", "pending"],
        "properties": {"message": {"type": "string"}, "pending": {"type": "object"}},
    }
    for model in components.values():
        for name, field in model.get("properties", {}).items():
            if name in EXACT and field.get("type") == "string":
                field["minLength"] = field["maxLength"] = b64_length(EXACT[name])
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            _complete(route, operation)
    _vault_put(schema["paths"]["/v1/vault/{name}"]["put"])
    return schema


def _complete(route: APIRoute, operation: dict[str, Any]) -> None:
    codes = {429} if route.name in NO_DATABASE else {429, 503}
    if any(getattr(d.call, "__name__", "") == "bearer_token" for d in route.dependant.dependencies):
        codes.add(401)
    has_body = route.body_field is not None or route.name == "put_object"
    if operation.get("parameters") or has_body:
        codes |= {400, 422}
    if has_body:
        codes.add(413)
    codes.update(EXTRA.get(route.name, ()))
    responses = operation.setdefault("responses", {})
    for code in sorted(codes):
        content = PENDING if code == 202 else ERROR
        responses[str(code)] = {
            "description": WHY[code],
            "content": {"application/json": {"schema": content}},
        }
    if 401 in codes:
        responses["401"]["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
        }


def _vault_put(operation: dict[str, Any]) -> None:
    operation["requestBody"] = {
        "required": True,
        "description": "The envelope's bytes.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "if-none-match":
            parameter["description"] = "`*` to create (one of the two headers is required: 428)."
            parameter["schema"] = {"type": "string", "enum": ["*"]}
        elif parameter["name"] == "if-match":
            parameter["description"] = 'The generation replaced, as `"<n>"` (or If-None-Match).'
            parameter["schema"] = {"type": "string", "pattern": '^"[0-9]{1,10}"$'}
