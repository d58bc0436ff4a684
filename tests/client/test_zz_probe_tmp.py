from tests.client.test_hostile_server import hostile  # noqa
import pytest, psremoting
from psremoting.errors import PSRemotingError
from tests.client.test_hostile_server import HOSTILE_BODIES
@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize("kind", list(HOSTILE_BODIES))
def test_p(hostile, kind, status):
    hostile.status, hostile.body = status, HOSTILE_BODIES[kind]
    with pytest.raises(PSRemotingError) as info:
        psremoting.new_pssession("Server01")
    print("\nMSG", kind, status, repr(str(info.value))[:400])
