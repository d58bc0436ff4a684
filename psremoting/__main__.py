"""`python -m psremoting` runs the command line."""

import sys

from psremoting.cli.main import main

sys.exit(main())
