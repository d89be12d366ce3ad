"""StableNew TUI: a keyboard-driven batch pipeline for Stable Diffusion WebUI servers."""

__version__ = "0.1.0"
