"""The `psremoting` console: the local shell, the remote prompt and the terminal host UI.

Split by concern so each piece can be tested on its own:

- `repl`          the loops behind `psremoting shell` and `psremoting enter`
- `remote`        the remote prompt: one pipeline a line, Ctrl+C -> stop, Ctrl+D -> leave
- `interpreter`   runs the local shell's input (parsed and evaluated by `psremoting.pslang`)
- `cmdlets`       the local cmdlets' signatures, parameter sets and aliases
- `binding`       PowerShell parameter binding for them (pslang's binder)
- `builtins`      what the session cmdlets do, on top of the `psremoting` API
- `localcmds`     the few local helpers: Get-Help, Get-Command, cd, pwd, cls, echo
- `helptext`      `Get-Help NAME` texts
- `display`       how values are shown at the local prompt (the PSSession table, ...)
- `errors`        errors in PowerShell 7's concise view; the "not a local command" error
- `host_ui`       `ConsoleHostUI`, the HostUI of a terminal (colours, progress, prompts)
- `ansi`, `progress`, `terminal`  colours, the progress bar, reading answers and secrets
- `lineinput`, `continuation`     prompt_toolkit input, `>> ` continuation lines
- `history`, `highlight`, `completion`  per-host history files, syntax colours, Tab
- `emulator_mode` the `--emulator` wiring: every computer name served by an emulator

Nothing here is imported by `psremoting --version`.
"""
