"""What a server says about itself: /internal/sysinfo (A1111, Forge), SD.Next's /version and
/platform, and the command-line flags (/cmd-flags) on all of them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from stablenew_tui.sim import sdnext
from stablenew_tui.sim.routing import Routes
from stablenew_tui.sim.state import SimState


def add_server_routes(app: FastAPI, routes: Routes, sim: SimState) -> None:
    flavor = sim.flavor

    if flavor.has_sysinfo_route:

        @app.get("/internal/sysinfo")
        async def sysinfo() -> dict[str, Any]:
            return _sysinfo(sim)

    @routes.get("version")
    async def version() -> dict[str, Any]:
        return sdnext.version_answer(flavor)

    @routes.get("platform")
    async def platform() -> dict[str, Any]:
        return sdnext.platform_answer()

    @routes.get("cmd-flags")
    async def cmd_flags() -> dict[str, Any]:
        return _cmd_flags(sim)


def _auth_flag(sim: SimState) -> str | None:
    if sim.credentials is None:
        return None
    return ",".join(f"{user}:{password}" for user, password in sim.credentials.items())


def _cmd_flags(sim: SimState) -> dict[str, Any]:
    """`vars(shared.cmd_opts)`, a subset. Like the real servers it echoes the --api-auth (SD.Next:
    --auth) credentials in clear to anyone who passed them: a client must never log it."""
    root = sim.flavor.install_root
    common: dict[str, Any] = {
        "data_dir": root,
        "models_dir": None,
        "listen": True,
        "port": None,
        "api_log": False,
        "skip_version_check": False,
        "medvram": False,
        "lowvram": False,
        "tls_keyfile": None,
        "tls_certfile": None,
    }
    if sim.flavor.is_sdnext:
        # modules/cmd_args.py: one --auth for UI and API; --api is always on.
        return common | {"auth": _auth_flag(sim), "auth_file": None, "api": True, "docs": False}
    flags = common | {
        "config": f"{root}/configs/v1-inference.yaml",
        "ckpt_dir": None,
        "vae_dir": None,
        "embeddings_dir": f"{root}/embeddings",
        "api": sim.api_enabled,
        "api_auth": _auth_flag(sim),
        "api_server_stop": False,
        "nowebui": False,
        "xformers": True,
        "freeze_settings": False,
        "timeout_keep_alive": 30,
        "disable_all_extensions": False,
    }
    if sim.flavor.is_forge:
        flags |= {"cuda_malloc": False, "pin_shared_memory": False, "forge_ref_a1111_home": None}
    return flags


def _sysinfo(sim: SimState) -> dict[str, Any]:
    argv = ["launch.py", "--listen"]
    if sim.api_enabled:
        argv.append("--api")
    if sim.credentials is not None:
        # modules/sysinfo.py `get_argv` hides the credentials.
        argv += ["--api-auth", "<hidden>"]
    return {
        "Platform": "Linux-6.8.0-45-generic-x86_64-with-glibc2.39",
        "Python": "3.10.14",
        "Version": sim.flavor.version,
        "Commit": "82a973c04367123ae98bd9abdf80d9eda9b910e2",
        "Script path": sim.flavor.install_root,
        "Data path": sim.flavor.install_root,
        "Extensions dir": f"{sim.flavor.install_root}/extensions",
        "Commandline": argv,
        "Torch env info": {"torch_version": "2.3.1+cu121", "cuda_runtime_version": "12.1.105"},
        "Exceptions": [],
        "CPU": {"model": "x86_64", "count logical": 16, "count physical": 8},
        "RAM": {"total": "64GB", "used": "12GB", "free": "52GB"},
        "Extensions": [],
        "Inactive extensions": [],
        "Environment": {"GRADIO_ANALYTICS_ENABLED": "False"},
        "Config": {"sd_model_checkpoint": sim.options.get("sd_model_checkpoint")},
        "Startup": {},
        "Packages": ["fastapi==0.94.0", "gradio==3.41.2", "torch==2.3.1"],
    }
