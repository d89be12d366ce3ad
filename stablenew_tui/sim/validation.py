"""422 answers in pydantic 1's words, for the A1111 flavors.

A1111 pins FastAPI 0.94 (requirements_versions.txt), which validates with pydantic 1: its 422 body
is `{"detail": [{"loc", "msg", "type"[, "ctx"]}]}` with pydantic 1's type names and messages
(`type_error.integer`, "value is not a valid integer"), not pydantic 2's `int_parsing`, `input`
and `url`. The simulator validates with pydantic 2 and translates the common errors back.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

# pydantic 2 error type → (pydantic 1 type, message)
_SAME_MEANING: dict[str, tuple[str, str]] = {
    "missing": ("value_error.missing", "field required"),
    "int_type": ("type_error.integer", "value is not a valid integer"),
    "int_parsing": ("type_error.integer", "value is not a valid integer"),
    "int_from_float": ("type_error.integer", "value is not a valid integer"),
    "float_type": ("type_error.float", "value is not a valid float"),
    "float_parsing": ("type_error.float", "value is not a valid float"),
    "bool_type": ("type_error.bool", "value could not be parsed to a boolean"),
    "bool_parsing": ("type_error.bool", "value could not be parsed to a boolean"),
    "string_type": ("type_error.str", "str type expected"),
    "list_type": ("type_error.list", "value is not a valid list"),
    "dict_type": ("type_error.dict", "value is not a valid dict"),
    "model_type": ("type_error.dict", "value is not a valid dict"),
    "model_attributes_type": ("type_error.dict", "value is not a valid dict"),
}
# pydantic 2 bound error → (pydantic 1 type, message template, ctx key in pydantic 2)
_BOUNDS: dict[str, tuple[str, str, str]] = {
    "greater_than": ("value_error.number.not_gt", "ensure this value is greater than {}", "gt"),
    "greater_than_equal": (
        "value_error.number.not_ge",
        "ensure this value is greater than or equal to {}",
        "ge",
    ),
    "less_than": ("value_error.number.not_lt", "ensure this value is less than {}", "lt"),
    "less_than_equal": (
        "value_error.number.not_le",
        "ensure this value is less than or equal to {}",
        "le",
    ),
}


def as_pydantic_v1(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic 2 error as pydantic 1 words it; unknown kinds keep pydantic 2's type/msg."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    loc = list(error.get("loc", ()))
    if kind in _SAME_MEANING:
        v1_type, message = _SAME_MEANING[kind]
        return {"loc": loc, "msg": message, "type": v1_type}
    if kind in _BOUNDS:
        v1_type, template, key = _BOUNDS[kind]
        limit = ctx.get(key)
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # A1111 declares its bounds as ints; pydantic 2 reports floats
        return {
            "loc": loc,
            "msg": template.format(limit),
            "type": v1_type,
            "ctx": {"limit_value": limit},
        }
    if kind == "literal_error":
        permitted = [_literal(part) for part in str(ctx.get("expected", "")).split(" or ")]
        return {
            "loc": loc,
            "msg": f"unexpected value; permitted: {', '.join(map(repr, permitted))}",
            "type": "value_error.const",
            "ctx": {"given": error.get("input"), "permitted": permitted},
        }
    if kind == "json_invalid":
        reason = str(ctx.get("error", "invalid JSON"))
        return {"loc": loc, "msg": reason, "type": "value_error.jsondecode"}
    return {"loc": loc, "msg": error.get("msg", ""), "type": kind}


def _literal(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text.strip("'")


def install_pydantic_v1_errors(app: FastAPI) -> None:
    async def handle(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        detail = [as_pydantic_v1(item) for item in error.errors()]
        return JSONResponse(status_code=422, content={"detail": detail})

    app.add_exception_handler(RequestValidationError, handle)
