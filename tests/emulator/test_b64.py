"""`psremoting.emulator.b64`: pybase64's speed, the stdlib's answers (results and errors)."""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable
from typing import Any

import pytest

from psremoting.emulator import b64

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ODD = "= \n\r\t-_.*\x00é"


def _answer(decode: Callable[..., bytes], data: Any, **kwargs: Any) -> bytes | str:
    try:
        return decode(data, **kwargs)
    except binascii.Error:
        return "binascii.Error"
    except ValueError:
        return "ValueError"


def _samples(count: int, seed: int) -> list[str | bytes]:
    rng = random.Random(seed)
    samples: list[str | bytes] = []
    for _ in range(count):
        pool = ALPHABET if rng.random() < 0.5 else ALPHABET + "====" + ODD
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 14))) + "=" * rng.choice(
            (0, 0, 1, 2, 3, 4)
        )
        samples.append(text.encode() if rng.random() < 0.3 else text)
    return samples


@pytest.mark.parametrize("seed", [1, 2])
def test_decoders_answer_as_the_stdlib(seed: int) -> None:
    for data in _samples(20_000, seed):
        assert _answer(b64.decode_strict, data) == _answer(base64.b64decode, data, validate=True), data
        assert _answer(b64.decode_lenient, data) == _answer(base64.b64decode, data), data


@pytest.mark.parametrize(
    "data",
    ["YWJj====", "====", "YWJj\n", " YWJj", "YW=Jj", "abc", "é", "YR==", "", "QQ==QQ=="],
)
def test_the_inputs_where_pybase64_and_the_stdlib_differ(data: str) -> None:
    """pybase64 refuses the excess padding the stdlib's strict decoder accepts, and its lenient
    mode reads past a '=' where the stdlib stops: the stdlib's answer is the one given."""
    assert _answer(b64.decode_strict, data) == _answer(base64.b64decode, data, validate=True)
    assert _answer(b64.decode_lenient, data) == _answer(base64.b64decode, data)


def test_encode_and_large_input() -> None:
    data = random.Random(3).randbytes(300_001)
    text = b64.encode(data)
    assert text == base64.b64encode(data).decode("ascii")
    assert b64.decode_strict(text) == data == b64.decode_lenient(text)
    assert b64.decode_lenient(text[:1000] + "\n" + text[1000:]) == data
