"""Each reliability test starts with no sessions and no endpoint override."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from psremoting.cmdlets import sessions as session
from psremoting.transport.options import set_endpoint_override


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    session._reset_for_tests()
    set_endpoint_override(None)
    yield
    session._reset_for_tests()
    set_endpoint_override(None)
