"""The budget tests' in-process AWS: moto with the stage table (partition key `id`), as the sandbox creates it."""
import pytest

from chalice_app import naming
from tests.moto_helpers import stage_table_session

STAGE = "test"


@pytest.fixture
def aws():
    with stage_table_session(naming.table(STAGE)) as session:
        yield session
