"""Run a command and write its exit code to a file: `exit_status.py STATUS_FILE COMMAND...`.

Used by the tmux terminal of the shell tests (tmux's #{pane_dead_status} is not always
filled in). This process ignores Ctrl+C (the terminal sends SIGINT to the whole
foreground group); the command gets the default handling back.
"""

import os
import signal
import subprocess
import sys


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


signal.signal(signal.SIGINT, signal.SIG_IGN)
code = subprocess.call(sys.argv[2:], preexec_fn=_default_sigint)
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(f"{code}\n")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
