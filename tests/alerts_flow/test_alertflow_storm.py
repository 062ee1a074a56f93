"""Storm safety on the fakes: at most N new incidents in any 60 seconds; beyond that one storm
incident whose post lists the groups, and a group that joined a storm never gets its own later."""

from __future__ import annotations

from pathlib import Path

from alertflow_support import alert_bridge


async def test_beyond_the_limit_new_groups_join_one_storm_incident(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=3) as alerts:
        outcomes = [await alerts.apply("datadog", group=f"cycle-{n}") for n in range(10)]
        await alerts.drain()

        assert outcomes == ["new"] * 3 + ["storm"] * 7
        assert alerts.tracker.creates == 4  # three groups and the storm
        storm = [row for row in await alerts.rows() if row.kind == "storm"]
        assert len(storm) == 1 and storm[0].members == 7
        storm_incident = alerts.tracker.incidents[storm[0].sys_id]
        assert storm_incident.correlation_id.startswith("storm:")
        posts = alerts.alert_posts()
        assert len(posts) == 4
        view = next(p.current.view for p in posts if p.current.view.storm)
        assert view.count == 7 and len(view.members) == 7
        assert {m.title for m in view.members} == {"Checkout API error rate above 5%"}


async def test_the_limit_is_per_sixty_seconds(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=2) as alerts:
        assert [await alerts.apply("bugsnag", group=f"e{n}") for n in range(2)] == ["new", "new"]
        alerts.bridge.clock.advance(seconds=61)
        assert [await alerts.apply("bugsnag", group=f"f{n}") for n in range(3)] == ["new", "new", "storm"]


async def test_a_storm_group_never_gets_its_own_incident_later(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=1) as alerts:
        await alerts.apply("sentry", group="100")
        assert await alerts.apply("sentry", group="200") == "storm"
        alerts.bridge.clock.advance(minutes=30)
        for _ in range(5):
            assert await alerts.apply("sentry", group="200") == "repeat"
        await alerts.drain()

        member = await alerts.row("sentry:200")
        assert member.sys_id is None and member.storm_id is not None and member.count == 6
        assert await alerts.bridge.runtime.tracker.find_by_correlation_id("sentry:200") is None
        storm = next(row for row in await alerts.rows() if row.kind == "storm")
        assert storm.count == 6  # the storm's post counts its groups' alerts


async def test_a_quiet_storm_ends_and_the_next_flood_starts_another(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=1) as alerts:
        await alerts.apply("pagerduty", group="P1")
        await alerts.apply("pagerduty", group="P2")
        alerts.bridge.clock.advance(minutes=5)
        await alerts.apply("pagerduty", group="P3")
        assert await alerts.apply("pagerduty", group="P4") == "storm"  # P3 took this minute's one
        alerts.bridge.clock.advance(minutes=11)
        await alerts.apply("pagerduty", group="P5")
        assert await alerts.apply("pagerduty", group="P6") == "storm"
        await alerts.drain()

        storms = [row for row in await alerts.rows() if row.kind == "storm"]
        assert [storm.members for storm in storms] == [2, 1]


async def test_a_storm_recovers_when_all_its_groups_have(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=1) as alerts:
        await alerts.apply("datadog", group="c0")
        for n in (1, 2):
            await alerts.apply("datadog", group=f"c{n}")
        await alerts.drain()
        await alerts.apply("datadog", group="c1", state="recovered")
        await alerts.drain()
        storm = next(row for row in await alerts.rows() if row.kind == "storm")
        assert storm.state == "triggered"

        await alerts.apply("datadog", group="c2", state="recovered")
        await alerts.drain()
        storm = next(row for row in await alerts.rows() if row.kind == "storm")
        assert storm.state == "recovered"
        assert "Every group of the alert storm" in alerts.tracker.notes(storm.sys_id)[-1]
        view = next(p.current.view for p in alerts.alert_posts() if p.current.view.storm)
        assert view.recovered and {m.state for m in view.members} == {"recovered"}


async def test_a_big_storm_lists_the_first_groups_and_counts_the_rest(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=0) as alerts:
        for n in range(40):
            await alerts.apply("bugsnag", group=f"g{n}")
        await alerts.drain()
        assert alerts.tracker.creates == 1
        [post] = alerts.alert_posts()
        assert len(post.current.view.members) == 25 and post.current.view.more_members == 15
