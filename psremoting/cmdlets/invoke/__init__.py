"""Invoke-Command: a script block run on many computers or sessions at once, throttled."""
