"""The files of the classic StableNew, the desktop app this one continues.

Its packs are `.txt` files, most with a `.json` of the same name holding that pack's stage
settings (`settings_file`); its presets are such settings files in a presets folder
(`presets`); its randomization (Prompt S/R, inline `__token__` wildcards and `[[slot]]`
matrices) is read into data (`randomization`) and rewritten into templates of our own
syntax (`rewrite`), so locks, pins and recorded choices apply to it.
"""
