"""Error bodies of every server flavor become one readable reason."""

import pytest

from stablenew_tui.webui.errors import is_out_of_memory, reason_from_body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # A1111 api exception handler
            {"error": "RuntimeError", "detail": "", "body": "", "errors": "Model not found"},
            "RuntimeError: Model not found",
        ),
        ({"detail": "Sampler not found"}, "Sampler not found"),  # HTTPException / Forge
        (  # Forge's long form
            {
                "error": "OutOfMemoryError",
                "detail": "",
                "body": "",
                "message": "CUDA out of memory",
            },
            "OutOfMemoryError: CUDA out of memory",
        ),
        (  # SD.Next
            {"error": "HTTPException", "code": 404, "detail": "Sampler not found", "body": ""},
            "HTTPException: Sampler not found",
        ),
        (  # FastAPI validation
            {"detail": [{"loc": ["body", "steps"], "msg": "value is not a valid integer"}]},
            "steps: value is not a valid integer",
        ),
        ("Internal Server Error", "Internal Server Error"),
        (None, "fallback"),
    ],
)
def test_reason_from_each_error_shape(body, expected):
    assert reason_from_body(body, "fallback") == expected


def test_out_of_memory_is_recognised():
    assert is_out_of_memory("OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")
    assert not is_out_of_memory("Sampler not found")
