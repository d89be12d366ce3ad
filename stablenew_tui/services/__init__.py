"""What the TUI and the CLI both drive: the verbs that start and steer runs, and the rows of
finished images. Plain asyncio, no Textual."""
