"""tests/unit touch no database: `make test` runs them in the SQLite pass only. A test here that asks
for one fails, pointing it to tests/service, where both databases run it."""

import pytest


@pytest.fixture
def database_url():
    pytest.fail("tests/unit use no database (the PostgreSQL pass leaves them out): move this test to tests/service")
