"""pypsrp 0.9.1's own test suite, run live against the emulator (see `runner`)."""
