"""`config.toml`: pydantic models, loaded with tomllib.

A bad config raises `InputError` naming the file, the key (and its line when it can be found)
and what is wrong; the CLI prints it and exits 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from stablenew_tui.errors import InputError, first_problem
from stablenew_tui.paths import AppPaths

# A check of a partial settings table: its first wrong value's location and message, if any.
# The pipeline knows what a stage value may be; the config only knows where it was written.
StagesCheck = Callable[[dict[str, Any]], tuple[tuple[Any, ...], str] | None]

PreviewMethod = Literal["auto", "kitty", "sixel", "halfcell", "unicode", "none"]
# Paths a user copies from the browser that are not the WebUI's base: its API (which the client
# adds to the base itself) and FastAPI's pages about it.
_HOST = re.compile(r"[\w.\-:%]+")  # a name, an IPv4 or IPv6 address (no brackets here)
_API_PAGE = re.compile(r"(/sdapi(/.*)?|/docs|/redoc|/openapi\.json)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class NodeConfig(_Strict):
    """One WebUI server. Credentials never appear in its repr or in error messages."""

    name: str = ""
    url: str
    user: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    verify_tls: bool = True
    # What this node may make, so heavy work stays off weak GPUs: checkpoint patterns (fnmatch
    # on the title or name; one starting with "!" denies) and the largest image it generates.
    models: list[str] = Field(default_factory=list)
    max_megapixels: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _normalize(self) -> NodeConfig:
        parts = urlsplit(self.url.strip())
        if "://" not in self.url:
            # Not guessed: the scheme decides whether the traffic (and a password) is encrypted.
            raise ValueError(
                "node URL must start with http:// or https://, "
                f"e.g. http://{redact_url('//' + self.url.strip())[2:]}"
            )
        if parts.scheme not in ("http", "https"):
            raise ValueError(
                f"node URL must start with http:// or https://, not {redact_url(self.url)!r}"
            )
        if not parts.hostname:
            raise ValueError(f"node URL {redact_url(self.url)!r} names no host")
        if not _HOST.fullmatch(parts.hostname) or any(c.isspace() for c in self.url.strip()):
            # Else it fails only when used, as "unreachable": it was never an address.
            raise ValueError(f"node URL {redact_url(self.url)!r} is not a valid address")
        # Credentials typed into the URL move into user/password so they never get logged.
        if parts.username or parts.password:
            object.__setattr__(self, "user", self.user or parts.username)
            if parts.password and self.password is None:
                object.__setattr__(self, "password", SecretStr(parts.password))
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6
        netloc = host + (f":{parts.port}" if parts.port else "")
        path = parts.path.rstrip("/")
        api_page = _API_PAGE.search(path)
        if api_page:
            # Not trimmed silently: the URL is what the config and each run record.
            base = urlunsplit((parts.scheme, netloc, path[: api_page.start()], "", ""))
            raise ValueError(
                f"node URL ends in {api_page.group(0)}, a page of the WebUI's API, not its "
                f"address: use {base}"
            )
        clean = urlunsplit((parts.scheme, netloc, path, "", ""))
        object.__setattr__(self, "url", clean)
        if not self.name:
            object.__setattr__(self, "name", netloc)
        if any(not pattern.lstrip("!").strip() for pattern in self.models):
            raise ValueError("models: a pattern is empty")
        return self

    def resolved_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_env:
            return os.environ.get(self.password_env)
        return None

    def basic_auth(self) -> tuple[str, str] | None:
        password = self.resolved_password()
        if self.user is None and password is None:
            return None
        return (self.user or "", password or "")


class PathsConfig(_Strict):
    output_root: Path | None = None
    pack_folders: list[Path] = Field(default_factory=list)
    wildcard_folders: list[Path] = Field(default_factory=list)
    preset_folders: list[Path] = Field(default_factory=list)
    webui_root: Path | None = None
    ffmpeg: Path | None = None


class PromptsConfig(_Strict):
    """Text added to every run's prompts: a negative for every stage that applies it."""

    global_negative: str = ""
    global_negative_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PromptsConfig:
        if self.global_negative and self.global_negative_file is not None:
            raise ValueError("give global_negative or global_negative_file, not both")
        return self

    def global_negative_text(self) -> str:
        """The global negative, read from its file when it has one (a BOM is dropped)."""
        if self.global_negative_file is None:
            return self.global_negative.strip()
        path = self.global_negative_file.expanduser()
        try:
            return path.read_text(encoding="utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise InputError(
                f"[prompts] global_negative_file: cannot read it: {reason}", source=str(path)
            ) from None


class ClientConfig(_Strict):
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(600.0, gt=0, description="seconds to wait for one generation")
    retries: int = Field(3, ge=0, le=10)
    retry_seconds: float = Field(
        300.0, ge=0, le=86400,
        description="how long a job or a node meeting transient errors is retried",
    )  # fmt: skip
    stall_timeout: float = Field(
        180.0, ge=0, le=86400,
        description="seconds without progress before a generation is cut off; 0: never",
    )  # fmt: skip


class QueueConfig(_Strict):
    lease_seconds: float = Field(
        60.0, ge=1, le=3600,
        description="how long a claimed job stays claimed without its process renewing it",
    )  # fmt: skip


class UIConfig(_Strict):
    theme: str = "stablenew-dark"
    image_preview: PreviewMethod = "auto"
    # Off by default: every animated frame is bytes over SSH and time away from keys.
    animations: bool = False
    keymap: dict[str, str] = Field(default_factory=dict)


class StageDefaults(_Strict):
    """Per-stage setting overrides, as raw tables; the pipeline validates their values."""

    txt2img: dict[str, Any] = Field(default_factory=dict)
    img2img: dict[str, Any] = Field(default_factory=dict)
    adetailer: dict[str, Any] = Field(default_factory=dict)
    upscale: dict[str, Any] = Field(default_factory=dict)
    video: dict[str, Any] = Field(default_factory=dict)
    variants: dict[str, Any] = Field(default_factory=dict)


class AppConfig(_Strict):
    nodes: list[NodeConfig] = Field(default_factory=list)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    client: ClientConfig = Field(default_factory=ClientConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    prompts: PromptsConfig = Field(default_factory=PromptsConfig)
    stages: StageDefaults = Field(default_factory=StageDefaults)
    ui: UIConfig = Field(default_factory=UIConfig)

    def output_root(self, app_paths: AppPaths) -> Path:
        return (self.paths.output_root or app_paths.default_output_root).expanduser()


def load_config(
    path: Path | None = None,
    app_paths: AppPaths | None = None,
    *,
    check_stages: StagesCheck | None = None,
) -> AppConfig:
    """Read and validate a config file. A missing default file means defaults; a missing
    explicitly named file is an error."""
    explicit = path is not None
    path = path or (app_paths or AppPaths.from_environment()).config_file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise InputError("config file not found", source=str(path)) from None
        return AppConfig()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read config: {error}", source=str(path)) from None
    return parse_config(text, source=str(path), check_stages=check_stages)


def parse_config(text: str, *, source: str, check_stages: StagesCheck | None = None) -> AppConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column = _toml_position(str(error))
        raise InputError(
            f"not valid TOML: {error}", source=source, line=line, column=column
        ) from None
    except RecursionError:
        raise InputError("nested too deeply", source=source) from None
    try:
        config = AppConfig.model_validate(data)
    except ValidationError as error:
        location, key, message = first_problem(error)
        line = _line_of_key(text, location)
        raise InputError(f"{key}: {message}", source=source, line=line) from None
    # [stages] tables are partial: merged with other layers at each run, but a value that is
    # wrong whatever they hold is reported now, where its line is known.
    problem = check_stages(config.stages.model_dump()) if check_stages else None
    if problem is not None:
        location = ("stages", *problem[0])
        key = ".".join(str(part) for part in location)
        line = _line_of_key(text, location)
        raise InputError(f"{key}: {problem[1]}", source=source, line=line)
    return config


def redact_url(url: str) -> str:
    """The URL with any user info masked, fit for a message."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def _toml_position(message: str) -> tuple[int | None, int | None]:
    match = re.search(r"line (\d+), column (\d+)", message)
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)


def _line_of_key(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best effort: the line where the innermost named key is written, looked for from the
    header of its nearest enclosing table (`[stages.txt2img]`, the n-th `[[nodes]]`) on."""
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return None
    lines = text.splitlines()
    start = 0
    for end in range(len(loc), 0, -1):
        prefix = loc[:end]
        dotted = ".".join(part for part in prefix if isinstance(part, str))
        occurrence = prefix[-1] if isinstance(prefix[-1], int) else 0
        headers = [n for n, line in enumerate(lines) if _table_header(dotted).match(line)]
        if dotted and len(headers) > occurrence:
            if end == len(loc):  # the table itself is what is wrong
                return headers[occurrence] + 1
            start = headers[occurrence]
            break
    key = re.compile(rf"(^|[\s{{,.])\"?{re.escape(names[-1])}\"?\s*=")
    return next(
        (n + 1 for n in (*range(start, len(lines)), *range(start)) if key.search(lines[n])), None
    )


def _table_header(dotted: str) -> re.Pattern:
    """The header of table `dotted`, or of a table inside it (`[a.b]` also opens `a`)."""
    return re.compile(rf"^\s*\[\[?\s*{re.escape(dotted)}\s*[\].]")
