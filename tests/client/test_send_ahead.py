"""Input sent one Send ahead (`transport.sending.SendAhead`): in order, failures raised to the
producer, nothing sent after a failure, and the producer's context (the robust-connection
scope) seen by the sending thread."""

from __future__ import annotations

import contextvars
import threading

import pytest

from psremoting.transport.sending import SendAhead

_marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="none")


def test_fragments_go_in_order_from_another_thread_in_the_callers_context() -> None:
    sent: list[tuple[bytes, str, bool]] = []
    caller = threading.get_ident()

    def send(fragment: bytes) -> None:
        sent.append((fragment, _marker.get(), threading.get_ident() != caller))

    _marker.set("scope-of-the-pipeline")
    ahead = SendAhead(send)
    for n in range(50):
        ahead.put(b"%d" % n)
    ahead.finish()
    ahead.abandon()
    assert [f for f, _, _ in sent] == [b"%d" % n for n in range(50)]
    assert {m for _, m, _ in sent} == {"scope-of-the-pipeline"}
    assert all(other for _, _, other in sent)


def test_a_failed_send_is_raised_to_the_producer_and_nothing_more_is_sent() -> None:
    sent: list[bytes] = []

    def send(fragment: bytes) -> None:
        if fragment == b"3":
            raise ConnectionResetError("the server went away")
        sent.append(fragment)

    ahead = SendAhead(send)
    with pytest.raises(ConnectionResetError, match="the server went away"):
        for n in range(100):
            ahead.put(b"%d" % n)
        ahead.finish()
    ahead.abandon()
    assert sent == [b"0", b"1", b"2"]
