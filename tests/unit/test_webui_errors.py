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
        (  # nginx in front of a WebUI that is down
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n",
            "502 Bad Gateway",
        ),
        (  # a tunnel's or CDN's error page: long, styled, title with entities
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><style>body{}</style>"
            "<title>\n  example.com | 504: Gateway time&#45;out\n</title></head><body>"
            + "<div>x</div>" * 500
            + "</body></html>",
            "example.com | 504: Gateway time-out",
        ),
        ("<html><body><h1>Service <b>Unavailable</b></h1></body></html>", "Service Unavailable"),
        ("<html><body><p>nothing to name it</p></body></html>", "fallback"),
        (None, "fallback"),
    ],
)
def test_reason_from_each_error_shape(body, expected):
    assert reason_from_body(body, "fallback") == expected


def test_out_of_memory_is_recognised():
    assert is_out_of_memory("OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")
    assert not is_out_of_memory("Sampler not found")
