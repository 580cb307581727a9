"""The savings ledger's store on moto: a container decodes the cursor's state only when another one booked since."""
from datetime import datetime, timedelta, timezone

import pytest

from chalice_app.savings import store as store_module
from chalice_app.savings.ledger import Cursor, ParkedFunctionCost, State, book
from chalice_app.savings.store import SavingsStore
from tests.moto_helpers import stage_table_session

TABLE = "costguard-savings-store"
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)


def parked(*names: str) -> State:
    return State({f"openfaas-fn/{name}": ParkedFunctionCost("openfaas-fn", name, "default", 2, 0, 0, 0.01)
                  for name in names}, {})


@pytest.fixture
def session():
    with stage_table_session(TABLE) as session:
        yield session


def booked(store: SavingsStore, state: State, now: datetime) -> Cursor:
    cursor, previous = store.cursor()
    booking = book(cursor, state, now)
    assert booking is not None and store.save(booking, previous, now)
    return booking.cursor


def test_the_container_that_booked_last_reads_its_cursor_without_decoding_the_state(session, monkeypatch):
    container = SavingsStore(TABLE, session)
    saved = booked(container, parked("sleep", "figlet"), EVENING)
    monkeypatch.setattr(store_module, "state_from_json", lambda data: pytest.fail("decoded again"))
    cursor, raw = container.cursor()
    assert cursor == saved and raw == EVENING.isoformat()


def test_a_cursor_another_container_booked_since_is_read_and_decoded(session):
    first, second = SavingsStore(TABLE, session), SavingsStore(TABLE, session)
    booked(first, parked("sleep"), EVENING)
    later = booked(second, parked("sleep", "figlet"), EVENING + timedelta(minutes=5))
    cursor, raw = first.cursor()
    assert cursor == later and set(cursor.state.functions) == {"openfaas-fn/sleep", "openfaas-fn/figlet"}
    assert raw == (EVENING + timedelta(minutes=5)).isoformat()
    # and the first container's next booking is conditional on the second's, so it goes through
    assert booked(first, parked("sleep"), EVENING + timedelta(minutes=10)).booked_until == \
        EVENING + timedelta(minutes=10)


def test_a_store_that_never_booked_reads_the_table(session):
    booked(SavingsStore(TABLE, session), parked("sleep"), EVENING)
    cursor, _ = SavingsStore(TABLE, session).cursor()
    assert set(cursor.state.functions) == {"openfaas-fn/sleep"}


def test_an_empty_table_has_an_empty_cursor(session):
    assert SavingsStore(TABLE, session).cursor() == (Cursor(), None)
