"""``GET /metrics``: per-app registry, database figures that move, call hooks with safe labels."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from testkit.reporting import seeded_database

from bot.app import RUNTIME, Overrides, create_app
from bot.clock import FrozenClock
from bot.ports import ChannelPost, Permanent, Person, ThreadRef, Transient
from bot.reporting.metrics import Metrics, status_of
from bot.servicenow_tracker import ServiceNowTracker
from bot.settings import Settings
from servicenow.errors import IncidentNotFound, ServiceNowUnavailable

NOW = datetime(2022, 5, 3, 16, 0, tzinfo=UTC)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


@pytest.fixture
async def client(tmp_path, aiohttp_client):
    url = await seeded_database(tmp_path)
    settings = Settings(env="development", database_url=url, servicenow_url="http://127.0.0.1:9")
    app = create_app(settings, Overrides(run_background=False, clock=FrozenClock(NOW)))
    return await aiohttp_client(app)


def staff_post(message_id: str, channel_id: str = "19:640@thread.tacv2") -> ChannelPost:
    return ChannelPost(
        thread=ThreadRef("teams", channel_id, message_id),
        message_id=message_id,
        author=Person("29:staff", "Pat Frontdesk", "a1b2c3d4-0000-4000-8000-000000000001"),
        text="The kiosk shows error E42",
        posted_at=NOW,
        mentions_bot=False,
        from_bot=False,
    )


async def scrape(client) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return await response.text()


async def test_metrics_reflect_the_database_and_move_with_a_new_inquiry(client):
    before = await scrape(client)
    assert value(before, "golive_inquiries_total") == 10  # every row, deleted posts included
    assert value(before, "golive_incidents_created_total") == 9
    assert value(before, "golive_re_routes_total") == 4
    assert value(before, "golive_escalations_total", kind="level_1") == 3
    assert value(before, "golive_escalations_total", kind="level_2") == 1
    assert value(before, "golive_open_incidents") == 5  # #2 #4 #8 #9 #10 (#5 is a deleted post)
    assert value(before, "golive_sync_lag_seconds") is None  # no sync-back poll yet
    assert value(before, "golive_outbox_oldest_age_seconds") == 0

    await client.app[RUNTIME].service.on_channel_post(staff_post("5001"))
    after = await scrape(client)
    assert value(after, "golive_inquiries_total") == 11
    assert value(after, "golive_open_incidents") == 6
    assert value(after, "golive_unanswered_inquiries") == value(before, "golive_unanswered_inquiries") + 1
    assert value(after, "golive_outbox_depth", kind="create_incident") == 1
    assert value(after, "golive_outbox_oldest_age_seconds") >= 0


async def test_call_hooks_record_latency_and_errors_by_op_and_status(client):
    metrics = client.app[RUNTIME].metrics
    metrics.observe_servicenow("create_incident", 201, 0.2)
    metrics.observe_servicenow("create_incident", 503, 1.5)
    metrics.observe_servicenow("create_incident", "ok", 0.1)
    metrics.observe_teams("reply_in_thread", 429, 0.05)
    text = await scrape(client)
    assert (
        value(text, "golive_servicenow_request_duration_seconds_count", op="create_incident", status="201")
        == 1
    )
    assert (
        value(text, "golive_servicenow_request_duration_seconds_count", op="create_incident", status="503")
        == 1
    )
    assert value(text, "golive_servicenow_errors_total", op="create_incident", status="503") == 1
    assert value(text, "golive_servicenow_errors_total", op="create_incident", status="201") is None
    assert value(text, "golive_teams_errors_total", op="reply_in_thread", status="429") == 1


def test_labels_never_carry_message_text():
    metrics = Metrics()
    metrics.observe_teams("Veteran John Doe says the kiosk froze", "SSN 123-45-6789 rejected", 0.1)
    metrics.observe_servicenow("get_incident", 9999, 0.1)
    text = metrics.render().decode()
    assert "John" not in text and "123-45" not in text
    assert value(text, "golive_teams_errors_total", op="other", status="other") == 1
    assert value(text, "golive_servicenow_errors_total", op="get_incident", status="error") == 1


def test_each_app_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.observe_servicenow("create_incident", 201, 0.1)
    assert "create_incident" in first.render().decode()
    assert "create_incident" not in second.render().decode()


class FakeGateway:
    def __init__(self) -> None:
        self.closed = False

    async def create_incident(self, draft, known_new=False):
        return "INC0010001"

    async def get_incident(self, sys_id):
        raise IncidentNotFound(sys_id)

    async def add_comment(self, sys_id, text):
        raise ServiceNowUnavailable("ServiceNow unavailable", status=None)

    async def close(self):
        self.closed = True


async def test_the_servicenow_tracker_times_every_call_and_translates_errors_once():
    metrics = Metrics()
    tracker = ServiceNowTracker(FakeGateway(), metrics.observe_servicenow)  # type: ignore[arg-type]
    assert await tracker.create_incident(object()) == "INC0010001"  # type: ignore[arg-type]
    with pytest.raises(Permanent):
        await tracker.get_incident("abc")
    with pytest.raises(Transient):
        await tracker.add_comment("abc", "text that must not become a label")
    await tracker.close()
    assert tracker._gateway.closed  # type: ignore[union-attr]
    text = metrics.render().decode()
    count = "golive_servicenow_request_duration_seconds_count"
    assert value(text, count, op="create_incident", status="ok") == 1
    assert value(text, "golive_servicenow_errors_total", op="get_incident", status="404") == 1
    assert value(text, "golive_servicenow_errors_total", op="add_comment", status="unavailable") == 1
    assert value(text, count, op="close", status="ok") is None
    assert "must not" not in text


def test_status_of_maps_outcomes_to_short_labels():
    assert status_of(None) == "ok"
    assert status_of(ServiceNowUnavailable("x", status=429)) == "429"
    assert status_of(TimeoutError()) == "timeout"
    assert status_of(RuntimeError("anything")) == "error"


async def test_metrics_survive_concurrent_scrapes(client):
    texts = await asyncio.gather(*(scrape(client) for _ in range(5)))
    assert {value(t, "golive_inquiries_total") for t in texts} == {10}


async def test_openmetrics_is_served_when_the_scraper_asks_for_it(client):
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await response.text()).rstrip().endswith("# EOF")
