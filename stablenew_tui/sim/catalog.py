"""The fake resources a simulated server lists: checkpoints, VAEs, modules, upscalers, LoRAs, ...

Names and shapes follow real installs. Some checkpoints have no hash yet: A1111 only hashes a
checkpoint when it first loads it, so its title gains the `[shorthash]` suffix at that moment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from stablenew_tui.sim.flavors import Flavor


def fake_sha256(name: str) -> str:
    """A stable stand-in for the sha256 of a file the simulator does not have."""
    return hashlib.sha256(f"stablenew-sim:{name}".encode()).hexdigest()


@dataclass
class Checkpoint:
    relative_path: str  # under models/Stable-diffusion, e.g. "SDXL/juggernautXL_v9.safetensors"
    architecture: str  # "sd15", "sdxl" or "flux": decides which embeddings load
    filename: str
    sha256: str | None  # None until the checkpoint has been loaded once
    # SD.Next names a checkpoint by its path without the extension, in the title as well
    # (modules/sd_checkpoint.py `CheckpointInfo`).
    named_without_extension: bool = False

    @property
    def shorthash(self) -> str | None:
        return self.sha256[:10] if self.sha256 else None

    @property
    def name(self) -> str:
        if self.named_without_extension:
            return self.relative_path.rsplit(".", 1)[0]
        return self.relative_path

    @property
    def title(self) -> str:
        return f"{self.name} [{self.shorthash}]" if self.sha256 else self.name

    @property
    def model_name(self) -> str:
        stem = self.relative_path.rsplit(".", 1)[0]
        return stem.replace("/", "_").replace("\\", "_")

    @property
    def short_name(self) -> str:
        """What infotexts call the model: the file name without folder or extension."""
        return self.relative_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]

    def aliases(self) -> set[str]:
        names = {self.title, self.name, self.relative_path, self.model_name, self.short_name}
        if self.sha256:
            names |= {self.sha256, self.shorthash or "", f"{self.short_name} [{self.shorthash}]"}
        return names

    def as_json(self) -> dict[str, Any]:
        if self.named_without_extension:
            # SD.Next modules/api/endpoints.py `get_sd_models` (models.py `ItemModel`).
            return {
                "title": self.title,
                "model_name": self.name,
                "filename": self.filename,
                "type": self.relative_path.rsplit(".", 1)[-1],
                "sha256": self.sha256,
                "hash": self.shorthash,
                "config": None,
            }
        return {
            "title": self.title,
            "model_name": self.model_name,
            "hash": self.shorthash,
            "sha256": self.sha256,
            "filename": self.filename,
            "config": None,
        }


# (relative path, architecture, whether the install has hashed it already)
_CHECKPOINTS: tuple[tuple[str, str, bool], ...] = (
    ("sd_xl_base_1.0.safetensors", "sdxl", True),
    ("sd_xl_refiner_1.0.safetensors", "sdxl", True),
    ("v1-5-pruned-emaonly.safetensors", "sd15", True),
    ("dreamshaper_8.safetensors", "sd15", True),
    ("realisticVisionV60B1_v51HyperVAE.safetensors", "sd15", False),
    ("anything-v5-PrtRE.safetensors", "sd15", True),
    ("SDXL/juggernautXL_v9Rundiffusionphoto2.safetensors", "sdxl", False),
    ("SDXL/ponyDiffusionV6XL_v6StartWithThisOne.safetensors", "sdxl", True),
)
_FORGE_CHECKPOINTS: tuple[tuple[str, str, bool], ...] = (
    ("flux1-dev-bnb-nf4-v2.safetensors", "flux", True),
)
# The well-known checkpoints keep their real hashes, so infotexts look familiar.
_KNOWN_SHA256 = {
    "sd_xl_base_1.0.safetensors": (
        "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b"
    ),
    "sd_xl_refiner_1.0.safetensors": (
        "7440042bbdc8a24813002c09b6b69b64dc90fded4472613437b7f55f9b7d9c5f"
    ),
    "v1-5-pruned-emaonly.safetensors": (
        "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa"
    ),
}
# (file name, short hash as reported in "VAE hash")
_VAES = (
    ("sdxl_vae.safetensors", "235745af8d"),
    ("vae-ft-mse-840000-ema-pruned.safetensors", "735e4c3a44"),
    ("kl-f8-anime2.ckpt", "df3c506e51"),
)
# Forge's sd-modules: VAEs and text encoders, chosen through `forge_additional_modules`.
_FORGE_MODULES = (
    ("VAE", "ae.safetensors"),
    ("VAE", "sdxl_vae.safetensors"),
    ("VAE", "vae-ft-mse-840000-ema-pruned.safetensors"),
    ("text_encoder", "clip_l.safetensors"),
    ("text_encoder", "t5xxl_fp16.safetensors"),
    ("text_encoder", "t5xxl_fp8_e4m3fn.safetensors"),
)
# (name, base model family, training metadata as the Lora extension reports it)
_LORAS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("add_detail", "sd15", {"ss_network_dim": "128", "ss_base_model_version": "sd_v1"}),
    ("LCM_LoRA_Weights_SD15", "sd15", {}),
    ("more_details", "sd15", {"ss_network_dim": "32", "ss_base_model_version": "sd_v1"}),
    ("xl_more_art-full_v1", "sdxl", {"ss_network_dim": "64", "ss_base_model_version": "sdxl"}),
    ("pixel-art-xl-v1.1", "sdxl", {"ss_network_dim": "64", "ss_base_model_version": "sdxl"}),
    ("SDXL/sd_xl_offset_example-lora_1.0", "sdxl", {"ss_base_model_version": "sdxl_base_v1-0"}),
)
# (name, architecture, vectors)
_EMBEDDINGS = (
    ("EasyNegative", "sd15", 8),
    ("bad-hands-5", "sd15", 1),
    ("ng_deepnegative_v1_75t", "sd15", 75),
    ("negativeXL_D", "sdxl", 2),
    ("ziprealism_neg", "sdxl", 16),
)
_EMBEDDING_SHAPE = {"sd15": 768, "sdxl": 2048, "flux": 4096}
_HYPERNETWORKS = ("anime_3", "zxc_style")
# (name, model file or None for the built-in resizers, download URL)
_UPSCALERS: tuple[tuple[str, str | None, str | None], ...] = (
    ("None", None, None),
    ("Lanczos", None, None),
    ("Nearest", None, None),
    ("DAT x2", "DAT x2", "https://github.com/n0kovo/dat_upscaler_models/raw/main/DAT/DAT_x2.pth"),
    ("DAT x4", "DAT x4", "https://github.com/n0kovo/dat_upscaler_models/raw/main/DAT/DAT_x4.pth"),
    ("ESRGAN_4x", "ESRGAN_4x", "https://github.com/cszn/KAIR/releases/download/v1.0/ESRGAN.pth"),
    ("LDSR", "LDSR", "https://heibox.uni-heidelberg.de/f/578df07c8fc04ffbadf3/?dl=1"),
    (
        "R-ESRGAN 4x+",
        "R-ESRGAN 4x+",
        "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
    ),
    (
        "R-ESRGAN 4x+ Anime6B",
        "R-ESRGAN 4x+ Anime6B",
        "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth",
    ),
    (
        "ScuNET GAN",
        "ScuNET GAN",
        "https://github.com/cszn/KAIR/releases/download/v1.0/scunet_color_real_gan.pth",
    ),
    (
        "SwinIR 4x",
        "SwinIR 4x",
        "https://github.com/JingyunLiang/SwinIR/releases/download/v0.0/003_realSR_BSRGAN_DFOWMFC_s64w8_SwinIR-L_x4_GAN.pth",
    ),
)
LATENT_UPSCALE_MODES = (
    "Latent",
    "Latent (antialiased)",
    "Latent (bicubic)",
    "Latent (bicubic antialiased)",
    "Latent (nearest)",
    "Latent (nearest-exact)",
)


@dataclass(frozen=True)
class Vae:
    name: str
    filename: str
    shorthash: str


@dataclass(frozen=True)
class Lora:
    name: str
    architecture: str
    path: str
    metadata: dict[str, str]

    @property
    def shorthash(self) -> str:
        """The 12-character hash "Lora hashes" reports."""
        return fake_sha256(self.path)[:12]

    def as_json(self) -> dict[str, Any]:
        base = self.name.rsplit("/", 1)[-1]
        return {"name": base, "alias": base, "path": self.path, "metadata": dict(self.metadata)}


class Catalog:
    """Everything one simulated install has on disk."""

    def __init__(self, flavor: Flavor) -> None:
        root = flavor.install_root
        entries = _CHECKPOINTS + (_FORGE_CHECKPOINTS if flavor.is_forge else ())
        self.checkpoints = [
            Checkpoint(
                relative_path=path,
                architecture=architecture,
                filename=f"{root}/models/Stable-diffusion/{path}",
                sha256=(_KNOWN_SHA256.get(path) or fake_sha256(path)) if hashed else None,
                named_without_extension=flavor.is_sdnext,
            )
            for path, architecture, hashed in entries
        ]
        self.vaes = [Vae(name, f"{root}/models/VAE/{name}", short) for name, short in _VAES]
        self.modules = [f"{root}/models/{folder}/{name}" for folder, name in _FORGE_MODULES]
        self.loras = [
            Lora(name, arch, f"{root}/models/Lora/{name}.safetensors", meta)
            for name, arch, meta in _LORAS
        ]
        self.hypernetworks = [
            (name, f"{root}/models/hypernetworks/{name}.pt") for name in _HYPERNETWORKS
        ]
        self.upscalers = [
            {
                "name": name,
                "model_name": model,
                "model_path": url,
                "model_url": None,
                "scale": 4,
            }
            for name, model, url in _UPSCALERS
        ]

    def find_checkpoint(self, name: str | None) -> Checkpoint | None:
        """The checkpoint `name` refers to: a title, model name, file name, sha256 or shorthash."""
        if not name:
            return None
        for checkpoint in self.checkpoints:
            if name in checkpoint.aliases():
                return checkpoint
        return None

    def find_vae(self, name: str | None) -> Vae | None:
        return next((vae for vae in self.vaes if name in (vae.name, vae.filename)), None)

    def find_lora(self, name: str) -> Lora | None:
        return next((lora for lora in self.loras if lora.name.rsplit("/", 1)[-1] == name), None)

    def upscaler_names(self) -> list[str]:
        return [str(upscaler["name"]) for upscaler in self.upscalers]

    def embeddings(self, architecture: str) -> dict[str, Any]:
        """The /embeddings answer: only embeddings made for the loaded model's family load."""
        answer: dict[str, dict[str, Any]] = {"loaded": {}, "skipped": {}}
        for name, arch, vectors in _EMBEDDINGS:
            entry = {
                "step": None,
                "sd_checkpoint": None,
                "sd_checkpoint_name": None,
                "shape": _EMBEDDING_SHAPE[arch],
                "vectors": vectors,
            }
            answer["loaded" if arch == architecture else "skipped"][name] = entry
        return answer
