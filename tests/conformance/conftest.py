"""Prints the Windows-recordings conformance report at the end of the pytest run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    try:
        from test_windows_recordings import REPORTS
    except ImportError:
        return
    if not REPORTS:
        return
    from envelope_shape import join_reports

    verbose = config.getoption("verbose") > 0
    terminalreporter.section("Windows recordings conformance")
    terminalreporter.write_line(join_reports(REPORTS, details=verbose))
    if not verbose:
        terminalreporter.write_line("(-v lists every differing exchange)")
