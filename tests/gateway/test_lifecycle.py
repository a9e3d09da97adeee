"""The lifecycle table follows 12345 + 数字城管: the happy path, returns, callbacks, terminal states."""

from __future__ import annotations

import itertools

import pytest

from gateway.lifecycle import OPEN, TRANSITIONS, transition_error
from schemas.models import TicketStatus as S

HAPPY_PATH = [S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.RESPONDED, S.VERIFYING, S.CLOSED]


def test_happy_path_is_allowed() -> None:
    """Dispatch → accept → work → respond → verify → close is valid step by step."""
    for current, new in itertools.pairwise(HAPPY_PATH):
        assert transition_error(current, new, has_resolution=True) is None


def test_return_and_redispatch() -> None:
    """A wrongly routed ticket is returned (退单) and dispatched again (改派)."""
    assert transition_error(S.DISPATCHED, S.RETURNED, has_resolution=False) is None
    assert transition_error(S.RETURNED, S.DISPATCHED, has_resolution=False) is None


def test_unsatisfied_callback_goes_back_to_work() -> None:
    """An unsatisfied callback sends the ticket back to IN_PROGRESS."""
    assert transition_error(S.VERIFYING, S.IN_PROGRESS, has_resolution=False) is None


def test_close_needs_resolution() -> None:
    """CLOSED without a resolution is refused with the reason."""
    assert "resolution" in (transition_error(S.RESPONDED, S.CLOSED, has_resolution=False) or "")


@pytest.mark.parametrize("terminal", [S.CLOSED, S.NOT_ACCEPTED, S.FILED])
def test_terminal_states_allow_nothing(terminal: S) -> None:
    """Closed, not accepted and filed tickets take no further status."""
    for new in S:
        assert transition_error(terminal, new, has_resolution=True) is not None


def test_skipping_steps_is_refused_with_the_allowed_ones() -> None:
    """Jumping from DISPATCHED to CLOSED is refused, and the message lists what is allowed."""
    message = transition_error(S.DISPATCHED, S.CLOSED, has_resolution=True)
    assert message is not None
    assert "ACCEPTED" in message
    assert "RETURNED" in message


def test_open_states_are_those_with_a_way_forward() -> None:
    """A state is open exactly when it is not terminal."""
    for status in S:
        assert (status in OPEN) == bool(TRANSITIONS[status])
