"""The `psremoting` command line: the shell, enter, invoke, copy and the emulator."""
