"""One module per `stablenew` subcommand; each exposes `register(subparsers)`.

`register` adds an argparse sub-parser and sets `func` to a callable `(args) -> int` that returns
the exit code. Bad input raises `InputError`; `cli.main` turns it into one line and exit code 2.

A command is listed here, one line each: its name (its module is
`stablenew_tui.commands.<name>`) and the line `stablenew --help` shows for it. The module is
imported only when its command runs, so `register` passes no `help=` of its own.
"""

from __future__ import annotations

# In the order `stablenew --help` lists them.
COMMANDS = {
    "run": "run a batch headless: txt2img → img2img → ADetailer → upscale",
    "runs": "list runs: images done, failed, queued… and folder",
    "compare": "one prompt and seed over every combination of some settings, with a contact sheet",
    "refine": "send existing images on through img2img and/or upscale",
    "prompts": "expand prompt templates and packs",
    "rate": "rate finished images 1-5 (0 clears)",
    "learn": "what your ratings say",
    "video": "join images into an MP4, WebM or GIF",
    "resources": "list models, VAEs, samplers, schedulers, upscalers, LoRAs… of each node",
    "nodes": "each node's state, server, model, speed and images made; `nodes probe URL`",
    "sim": "serve a simulated Stable Diffusion WebUI (for demos and tests)",
}
