"""The throttled fan-out under Invoke-Command, with real threads (no PSRP involved)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from psremoting.cmdlets.invoke.throttle import Emitted, FanOut, Finished, TargetContext


class Gauge:
    """Counts callables running at once, as the server side would see them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def __enter__(self) -> Gauge:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.active -= 1


def test_at_most_throttle_limit_run_at_once_and_each_target_finishes_once() -> None:
    gauge = Gauge()
    barrier = threading.Barrier(4, timeout=10)  # only passes when 4 run at the same time

    def work(target: int, ctx: TargetContext[int]) -> int:
        with gauge:
            ctx.emit(f"start {target}")
            barrier.wait()
            ctx.emit(f"end {target}")
        return target * 10

    fan = FanOut(list(range(20)), work, throttle_limit=4)
    events = list(fan)
    assert fan.join(5)
    finished = [e for e in events if isinstance(e, Finished)]
    assert sorted(e.target for e in finished) == list(range(20))
    assert all(e.outcome == "returned" and e.result == e.target * 10 for e in finished)
    assert gauge.peak == 4 and fan.peak_running == 4
    items = Counter(e.item for e in events if isinstance(e, Emitted))
    assert all(items[f"start {t}"] == 1 and items[f"end {t}"] == 1 for t in range(20))
    # Each target's items come before its Finished event.
    for t in range(20):
        positions = [i for i, e in enumerate(events) if e.target == t]
        assert isinstance(events[positions[-1]], Finished)


def test_targets_start_in_list_order() -> None:
    started: list[int] = []

    def work(target: int, ctx: TargetContext[int]) -> None:
        started.append(target)

    fan = FanOut(list(range(10)), work, throttle_limit=1)
    list(fan)
    assert started == list(range(10))


def test_deadline_stops_running_targets_and_skips_the_rest() -> None:
    def work(target: int, ctx: TargetContext[int]) -> str:
        # A well-behaved target: it ends as soon as it is told to stop.
        assert ctx.stop_requested.wait(10), "never told to stop"
        return f"stopped because of {ctx.cancel_reason}"

    fan = FanOut(list(range(5)), work, throttle_limit=2, timeout=0.3)
    events = [e for e in fan if isinstance(e, Finished)]
    assert fan.join(5)
    by_target = {e.target: e for e in events}
    assert len(events) == 5
    assert [by_target[t].outcome for t in range(2)] == ["returned", "returned"]
    assert by_target[0].result == "stopped because of timeout"
    assert all(by_target[t].outcome == "not_started" for t in range(2, 5))
    assert all(e.cancel_reason == "timeout" for e in events)


def test_a_target_that_ignores_the_deadline_is_abandoned_after_the_grace_period() -> None:
    release = threading.Event()

    def work(target: int, ctx: TargetContext[int]) -> str:
        if target == 0:
            release.wait(10)  # ignores stop_requested: a hung connection
            ctx.emit("too late")
            return "late"
        return "quick"

    fan = FanOut([0, 1], work, throttle_limit=2, timeout=0.2, stop_grace=0.2)
    try:
        events = list(fan)
    finally:
        release.set()
    assert fan.join(5)
    finished = {e.target: e for e in events if isinstance(e, Finished)}
    assert finished[0].outcome == "abandoned" and finished[0].cancel_reason == "timeout"
    assert finished[1].outcome == "returned"
    assert not [e for e in events if isinstance(e, Emitted)]


def test_an_exception_in_one_target_is_reported_and_the_others_complete() -> None:
    def work(target: str, ctx: TargetContext[str]) -> str:
        if target == "bad":
            raise OSError("connection refused")
        return target.upper()

    fan = FanOut(["a", "bad", "c"], work, throttle_limit=3)
    finished = {e.target: e for e in fan if isinstance(e, Finished)}
    assert finished["a"].result == "A" and finished["c"].result == "C"
    assert finished["bad"].outcome == "raised"
    assert isinstance(finished["bad"].error, OSError)


def test_leaving_the_loop_early_cancels_the_rest() -> None:
    def work(target: int, ctx: TargetContext[int]) -> None:
        ctx.emit(target)
        ctx.stop_requested.wait(10)

    fan = FanOut(list(range(6)), work, throttle_limit=2)
    for event in fan:
        assert isinstance(event, Emitted)
        break
    assert fan.join(5)
    assert fan.cancel_reason == "cancelled"
    assert fan.peak_running <= 2


def test_cancel_from_the_consumer_finishes_unstarted_targets() -> None:
    def work(target: int, ctx: TargetContext[int]) -> None:
        ctx.emit("running")
        ctx.stop_requested.wait(10)

    fan = FanOut(list(range(4)), work, throttle_limit=1)
    outcomes = {}
    for event in fan:
        if isinstance(event, Emitted):
            fan.cancel()
        else:
            outcomes[event.target] = event.outcome
    assert fan.join(5)
    assert outcomes == {0: "returned", 1: "not_started", 2: "not_started", 3: "not_started"}


def test_throttle_limit_zero_means_32_and_bad_values_are_refused() -> None:
    assert FanOut([1], lambda t, c: None, throttle_limit=0).throttle_limit == 32
    with pytest.raises(ValueError, match="throttle_limit"):
        FanOut([1], lambda t, c: None, throttle_limit=-1)
    with pytest.raises(ValueError, match="timeout"):
        FanOut([1], lambda t, c: None, timeout=0)


def test_no_targets_yields_nothing() -> None:
    assert list(FanOut([], lambda t, c: None)) == []
