#!/usr/bin/env bash
# Development aid while the schema is pre-release: rebuild migration 0001 from bot/storage/tables.py.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f bot/storage/migrations/versions/0001_*.py /tmp/golive-genmig.db
.venv/bin/python - <<'PY'
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
engine = create_engine("sqlite:////tmp/golive-genmig.db")
with engine.begin() as connection:
    config = Config()
    config.set_main_option("script_location", "bot/storage/migrations")
    config.attributes["connection"] = connection
    command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i 's/bot\.storage\.tables\.UTCDateTime([^)]*)/sa.DateTime(timezone=True)/g' bot/storage/migrations/versions/0001_*.py
.venv/bin/ruff check -q --fix bot/storage/migrations/versions || true
.venv/bin/ruff format -q bot/storage/migrations/versions
