"""A throttled fan-out: run one callable per target, at most N at once, events in arrival order.

This is the scheduling half of Invoke-Command, kept apart from PSRP so that it can be tested
with plain threads. PowerShell's ThrottleManager starts operations in list order and lets at
most ThrottleLimit run at once; results are written in the order they arrive. `FanOut` does the
same with a fixed set of worker threads (one thread per running target: pypsrp is synchronous
and not thread-safe, so each running host owns its thread and its connection).

Each target's callable receives a `TargetContext` through which it emits items as they arrive
and learns that it must stop (the deadline passed, or the caller cancelled). Iterating over
the `FanOut` yields `Emitted` items and, once per target, a `Finished` event, so the consumer
sees every target end exactly once: completed, never started, or abandoned after the deadline.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

#: Why a target was asked to stop.
CancelReason = Literal["timeout", "cancelled"]
#: How a target ended, as seen by the scheduler.
Outcome = Literal["returned", "raised", "not_started", "abandoned"]

_fanout_ids = itertools.count(1)


@dataclass(frozen=True)
class Emitted(Generic[T]):
    """An item a target's callable emitted (output, an error record, ...)."""

    index: int
    target: T
    item: Any


@dataclass(frozen=True)
class Finished(Generic[T]):
    """A target ended. Yielded exactly once per target.

    `outcome` is "returned" (the callable returned `result`), "raised" (it raised `error`),
    "not_started" (cancelled or past the deadline before a worker took it) or "abandoned"
    (still running `stop_grace` seconds after it was told to stop; its thread is left to end
    on its own). `cancel_reason` says why the target was told to stop, if it was.
    """

    index: int
    target: T
    outcome: Outcome
    result: Any = None
    error: BaseException | None = None
    cancel_reason: CancelReason | None = None
    duration: float = 0.0


class TargetContext(Generic[T]):
    """What a target's callable sees: where to emit items, and whether to stop."""

    def __init__(self, fanout: FanOut[T], index: int, target: T) -> None:
        self._fanout = fanout
        self.index = index
        self.target = target
        #: Set when the target must stop: the deadline passed or the caller cancelled.
        self.stop_requested = fanout._stop_event

    @property
    def deadline(self) -> float | None:
        """The `time.monotonic()` value at which the whole invocation times out, or None."""
        return self._fanout.deadline

    @property
    def cancel_reason(self) -> CancelReason | None:
        return self._fanout.cancel_reason

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without a deadline."""
        if self._fanout.deadline is None:
            return None
        return max(0.0, self._fanout.deadline - time.monotonic())

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` (from the consumer's thread) when this target is told to stop, at
        once if it already was; e.g. a pipeline's thread-safe `stop`. Returns a function
        that unregisters it. A callback must be quick and must not raise."""
        return self._fanout._add_stop_callback(callback)

    def emit(self, item: Any) -> None:
        """Hand an item to the consumer; it is yielded in the order items arrive from all targets."""
        self._fanout._events.put(Emitted(self.index, self.target, item))


class FanOut(Generic[T]):
    """Run `work(target, context)` for every target with at most `throttle_limit` at once.

    Iterate over it (once) to start the workers and receive events. Targets start in list
    order. `timeout` (seconds, for the whole fan-out) sets a deadline: when it passes, every
    running callable is asked to stop through `context.stop_requested`, targets not yet started
    finish as "not_started", and a callable that has not returned `stop_grace` seconds later
    finishes as "abandoned". Leaving the loop early (break, an exception) cancels the rest.
    """

    def __init__(
        self,
        targets: Sequence[T],
        work: Callable[[T, TargetContext[T]], Any],
        *,
        throttle_limit: int = 32,
        timeout: float | None = None,
        stop_grace: float = 10.0,
        name: str = "fanout",
    ) -> None:
        if throttle_limit < 0:
            raise ValueError(f"throttle_limit must be 0 (meaning 32) or more, not {throttle_limit}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout}")
        self.targets = list(targets)
        self.work = work
        self.throttle_limit = throttle_limit or 32  # 0 means the default, as in PowerShell
        self.timeout = timeout
        self.stop_grace = stop_grace
        self.deadline: float | None = None
        self.cancel_reason: CancelReason | None = None
        #: The largest number of callables that were running at the same time.
        self.peak_running = 0
        self._name = f"{name}-{next(_fanout_ids)}"
        self._events: queue.Queue[Emitted[T] | Finished[T]] = queue.Queue()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._next = 0
        self._running: dict[int, float] = {}  # index -> start time
        self._threads: list[threading.Thread] = []
        self._started = False
        self._stop_callbacks: list[Callable[[], None]] = []

    # -- control ---------------------------------------------------------------------------

    def cancel(self, reason: CancelReason = "cancelled") -> None:
        """Ask every running callable to stop; targets not started will not start."""
        with self._lock:
            if self.cancel_reason is None:
                self.cancel_reason = reason
            callbacks = list(self._stop_callbacks)
        self._stop_event.set()
        for callback in callbacks:
            # One target's callback must not keep the others' from running.
            with contextlib.suppress(Exception):
                callback()

    def _add_stop_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            already = self._stop_event.is_set()
            if not already:
                self._stop_callbacks.append(callback)
        if already:
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._stop_callbacks:
                    self._stop_callbacks.remove(callback)

        return remove

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker threads to end; True if they all did within `timeout`."""
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            left = None if end is None else max(0.0, end - time.monotonic())
            thread.join(left)
        return not any(t.is_alive() for t in self._threads)

    # -- workers ---------------------------------------------------------------------------

    def _take(self) -> tuple[int, float] | None:
        with self._lock:
            if self._next >= len(self.targets) or self._stop_event.is_set():
                return None
            index = self._next
            self._next += 1
            started = time.monotonic()
            self._running[index] = started
            self.peak_running = max(self.peak_running, len(self._running))
            return index, started

    def _worker(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            index, started = taken
            target = self.targets[index]
            context = TargetContext(self, index, target)
            try:
                result = self.work(target, context)
            except BaseException as exc:  # reported to the consumer, never lost in a thread
                event = Finished(
                    index,
                    target,
                    "raised",
                    error=exc,
                    cancel_reason=self.cancel_reason,
                    duration=time.monotonic() - started,
                )
            else:
                event = Finished(
                    index,
                    target,
                    "returned",
                    result=result,
                    cancel_reason=self.cancel_reason,
                    duration=time.monotonic() - started,
                )
            with self._lock:
                self._running.pop(index, None)
            self._events.put(event)

    # -- consumer --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Emitted[T] | Finished[T]]:
        if self._started:
            raise RuntimeError("a FanOut can be iterated only once")
        self._started = True
        if self.timeout is not None:
            self.deadline = time.monotonic() + self.timeout
        count = min(self.throttle_limit, len(self.targets))
        for n in range(count):
            thread = threading.Thread(target=self._worker, name=f"{self._name}-worker-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()
        finished: set[int] = set()
        stop_at: float | None = None  # when running callables are abandoned
        try:
            while len(finished) < len(self.targets):
                now = time.monotonic()
                if self.deadline is not None and now >= self.deadline and not self._stop_event.is_set():
                    self.cancel("timeout")
                if self._stop_event.is_set():
                    yield from self._finish_unstarted(finished)
                    if stop_at is None:
                        stop_at = now + self.stop_grace
                    if now >= stop_at:
                        yield from self._abandon_running(finished)
                        continue
                wait = self._wait_time(now, stop_at)
                try:
                    event = self._events.get(timeout=wait)
                except queue.Empty:
                    continue
                if isinstance(event, Finished):
                    if event.index in finished:  # abandoned earlier, returned late: already reported
                        continue
                    finished.add(event.index)
                elif event.index in finished:
                    continue  # an item from an abandoned target: its end was already reported
                yield event
        finally:
            if len(finished) < len(self.targets):
                self.cancel("cancelled")

    def _wait_time(self, now: float, stop_at: float | None) -> float | None:
        limits = [
            t for t in (self.deadline if not self._stop_event.is_set() else None, stop_at) if t is not None
        ]
        if not limits:
            # Without a deadline, still wake up now and then so that cancel() is noticed.
            return 0.5
        return max(0.0, min(min(limits) - now, 0.5))

    def _finish_unstarted(self, finished: set[int]) -> Iterator[Finished[T]]:
        with self._lock:
            unstarted = range(self._next, len(self.targets))
            self._next = len(self.targets)
        for index in unstarted:
            finished.add(index)
            yield Finished(index, self.targets[index], "not_started", cancel_reason=self.cancel_reason)

    def _abandon_running(self, finished: set[int]) -> Iterator[Emitted[T] | Finished[T]]:
        # Drain what already arrived first, so that a callable that did return is not abandoned.
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            if event.index in finished:
                continue
            if isinstance(event, Finished):
                finished.add(event.index)
            yield event
        with self._lock:
            running = dict(self._running)
        now = time.monotonic()
        for index, started in sorted(running.items()):
            if index in finished:
                continue
            finished.add(index)
            yield Finished(
                index,
                self.targets[index],
                "abandoned",
                cancel_reason=self.cancel_reason,
                duration=now - started,
            )
