"""DSPy LM failures become typed errors; real transport failures against 127.0.0.1 (no model)."""

import socket
from pathlib import Path

import dspy
import pytest
from dspy.utils import exceptions as dx

from fda.errors import LMError, LMTimeoutError, LMUnavailableError
from fda.lm.failures import lm_errors, translate_lm_error
from fda.lm.server import LocalServer, ServerConfig
from tests.fda.lm.conftest import fake_command


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (dx.LMTimeoutError(message="slow", model="m"), LMTimeoutError),
        (dx.LMTransportError(message="read timed out waiting for headers", model="m"), LMTimeoutError),
        (dx.LMTransportError(message="connection refused", model="m"), LMUnavailableError),
        (dx.LMServerError(message="500", model="m"), LMUnavailableError),
        (dx.LMRateLimitError(message="429", model="m"), LMUnavailableError),
        (dx.LMAuthError(message="bad key", model="m"), LMUnavailableError),
        (dx.ContextWindowExceededError(message="too long", model="m"), LMError),
        (dx.LMInvalidRequestError(message="bad", model="m"), LMError),
        (TimeoutError("t"), LMTimeoutError),
        (ConnectionRefusedError("r"), LMUnavailableError),
    ],
)
def test_translation_table(exc: Exception, expected: type[LMError]) -> None:
    typed = translate_lm_error(exc, model="m")
    assert type(typed) is expected and "LM m" in str(typed)


@pytest.mark.parametrize("exc", [ValueError("x"), KeyError("k"), RuntimeError("r")])
def test_other_errors_are_not_lm_errors(exc: Exception) -> None:
    assert translate_lm_error(exc) is None
    with pytest.raises(type(exc)), lm_errors("m"):
        raise exc


def test_server_down_is_unavailable() -> None:
    lm = dspy.LM(
        "openai/x", api_base=f"http://127.0.0.1:{_closed_port()}/v1", api_key="local", num_retries=0, cache=False
    )
    with pytest.raises(LMUnavailableError) as info, lm_errors(lm.model):
        lm("hi")
    assert isinstance(info.value.__cause__, dx.LMError) and "make models" in info.value.hint


def test_slow_server_is_a_timeout() -> None:
    cfg = ServerConfig(Path("/x.gguf"), "slow")
    with LocalServer(cfg, command=fake_command("slow", "--delay", "3")) as server:
        lm = dspy.LM("openai/slow", api_base=server.api_base, api_key="local", num_retries=0, cache=False, timeout=0.3)
        with pytest.raises(LMTimeoutError), lm_errors(lm.model):
            lm("hi")
