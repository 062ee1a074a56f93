"""Storage tests run against SQLite always and PostgreSQL when it is reachable (see
``testkit.databases``); the ``database_url`` fixture is shared from tests/conftest.py."""
