import sys

from stablenew_tui.cli import main

sys.exit(main())
