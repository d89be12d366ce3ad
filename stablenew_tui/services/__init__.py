"""What the TUI and the CLI both drive: the verbs that steer runs and the rows of finished images."""
