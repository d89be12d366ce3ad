"""The settings `/sdapi/v1/options` returns: a realistic subset of a fresh install's config.

Clients read a handful of these (the model, the VAE, clip skip, preview period, sample format)
and must ignore the rest, so the rest is here to make that true.
"""

from __future__ import annotations

from typing import Any

from stablenew_tui.sim.catalog import Catalog
from stablenew_tui.sim.flavors import Flavor

# With previews on, A1111's default period; off is 0, A1111's own "no live previews" value.
PREVIEW_EVERY_N_STEPS = 10

FORGE_VAE_NOTE = (
    "Automatic (managed by Forge: choose VAE and text encoders in forge_additional_modules)"
)


def default_options(flavor: Flavor, catalog: Catalog, *, preview: bool) -> dict[str, Any]:
    model = catalog.checkpoints[0]
    options: dict[str, Any] = {
        "samples_save": True,
        "samples_format": "png",
        "samples_filename_pattern": "",
        "save_images_add_number": True,
        "grid_save": True,
        "grid_format": "png",
        "grid_only_if_multiple": True,
        "n_rows": -1,
        "enable_pnginfo": True,
        "save_txt": False,
        "jpeg_quality": 80,
        "webp_lossless": False,
        "export_for_4chan": True,
        "img_max_size_mp": 200,
        "outdir_samples": "",
        "outdir_txt2img_samples": "outputs/txt2img-images",
        "outdir_img2img_samples": "outputs/img2img-images",
        "outdir_extras_samples": "outputs/extras-images",
        "outdir_txt2img_grids": "outputs/txt2img-grids",
        "outdir_img2img_grids": "outputs/img2img-grids",
        "save_to_dirs": True,
        "directories_filename_pattern": "[date]",
        "ESRGAN_tile": 192,
        "ESRGAN_tile_overlap": 8,
        "realesrgan_enabled_models": ["R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B"],
        "upscaler_for_img2img": None,
        "face_restoration": False,
        "face_restoration_model": "CodeFormer",
        "code_former_weight": 0.5,
        "api_enable_requests": True,
        "api_forbid_local_requests": True,
        "sd_model_checkpoint": model.title,
        "sd_checkpoints_limit": 1,
        "sd_checkpoints_keep_in_cpu": True,
        "sd_checkpoint_cache": 0,
        "sd_unet": "Automatic",
        "enable_emphasis": True,
        "enable_batch_seeds": True,
        "comma_padding_backtrack": 20,
        "CLIP_stop_at_last_layers": 1,
        "upcast_attn": False,
        "randn_source": "GPU",
        "tiling": False,
        "hires_fix_refiner_pass": "second pass",
        "sd_vae_checkpoint_cache": 0,
        "sd_vae": "Automatic",
        "sd_vae_overrides_per_model_preferences": True,
        "auto_vae_precision": True,
        "sd_vae_encode_method": "Full",
        "sd_vae_decode_method": "Full",
        "inpainting_mask_weight": 1.0,
        "initial_noise_multiplier": 1.0,
        "img2img_color_correction": False,
        "img2img_fix_steps": False,
        "cross_attention_optimization": "Automatic",
        "s_min_uncond": 0.0,
        "token_merging_ratio": 0.0,
        "sd_hypernetwork": "None",
        "localization": "None",
        "return_grid": True,
        "do_not_show_images": False,
        "add_model_hash_to_info": True,
        "add_model_name_to_info": True,
        "add_version_to_infotext": True,
        "disable_weights_auto_swap": True,
        "infotext_styles": "Apply if any",
        "show_progressbar": True,
        "live_previews_enable": True,
        "live_previews_image_format": "png",
        "show_progress_grid": True,
        "show_progress_every_n_steps": PREVIEW_EVERY_N_STEPS if preview else 0,
        "show_progress_type": "Approx NN",
        "live_preview_content": "Prompt",
        "live_preview_refresh_period": 1000,
        "hide_samplers": [],
        "eta_ddim": 0.0,
        "eta_ancestral": 1.0,
        "ddim_discretize": "uniform",
        "s_churn": 0.0,
        "s_tmin": 0.0,
        "s_noise": 1.0,
        "k_sched_type": "Automatic",
        "eta_noise_seed_delta": 0,
        "always_discard_next_to_last_sigma": False,
        "uni_pc_variant": "bh1",
        "uni_pc_skip_type": "time_uniform",
        "uni_pc_order": 3,
        "uni_pc_lower_order_final": True,
        "postprocessing_enable_in_main_ui": [],
        "postprocessing_operation_order": [],
        "upscaling_max_images_in_cache": 5,
        "disabled_extensions": [],
        "disable_all_extensions": "none",
        "sd_checkpoint_hash": model.sha256 or "",
        "quicksettings_list": ["sd_model_checkpoint"],
    }
    if flavor.is_forge:
        options.update(
            {
                "sd_vae": FORGE_VAE_NOTE,
                "forge_preset": "all",
                "forge_additional_modules": [],
                "forge_unet_storage_dtype": "Automatic",
                "forge_inference_memory": 1024,
                "forge_async_loading": "Queue",
                "forge_pin_shared_memory": "CPU",
                "forge_canvas_plain": False,
                "forge_canvas_toolbar_always": False,
            }
        )
    if flavor.name == "sdnext":
        options.update(
            {
                # SD.Next `modules/ui_definitions.py`: images are JPEG out of the box.
                "samples_format": "jpg",
                "jpeg_quality": 90,
                "sd_backend": "diffusers",
                "diffusers_pipeline": "Autodetect",
                "diffusers_move_base": False,
                "diffusers_offload_mode": "balanced",
                "schedulers_sigma": "default",
                "theme_type": "Standard",
            }
        )
    return options
