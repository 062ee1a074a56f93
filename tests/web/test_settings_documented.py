"""Every setting is documented in .env.example, and secrets never show in a repr."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_env_example():
    documented = set(re.findall(r"^(GOLIVE_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    expected = {f"GOLIVE_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set()
    assert documented - expected == set()


def test_secrets_are_masked_in_repr():
    settings = Settings(
        microsoft_app_password="hunter2",
        servicenow_password="s3cret",
        servicenow_callback_secret="cb",
        dashboard_token="tok",
    )
    text = repr(settings) + str(settings)
    for secret in ("hunter2", "s3cret", "tok'", "'cb'"):
        assert secret not in text
