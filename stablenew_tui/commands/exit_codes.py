"""What `stablenew` exits with, for scripts to tell outcomes apart."""

EXIT_OK = 0
EXIT_FAILED = 1  # some images failed or were left queued; or a command failed
EXIT_BAD_INPUT = 2
EXIT_BUSY = 75  # EX_TEMPFAIL: another process is making the run; try again later
EXIT_INTERRUPTED = 130  # stopped with Ctrl-C
EXIT_BROKEN_PIPE = 141  # what shells report for a pipe closed by its reader
