"""``golive check``: are the settings usable and can the bot reach what it needs?

Each line is ``ok``, ``warn`` or ``FAIL`` with a reason; exit 1 when anything failed.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp

from bot.ports import PortError
from bot.settings import ConfigurationError, Settings
from bot.slack.api import SlackApi
from bot.storage.database import create_engine, is_ready, migrate

Result = tuple[str, str, str]  # (status, what, detail)


async def _database(settings: Settings) -> Result:
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        ready, reason = await is_ready(engine)
    except Exception as error:  # report, don't crash: this is a diagnostic
        return "FAIL", "database", f"{type(error).__name__}"
    finally:
        await engine.dispose()
    return ("ok" if ready else "FAIL"), "database", reason


async def _servicenow(settings: Settings, session: aiohttp.ClientSession) -> Result:
    if not settings.servicenow_url:
        return (
            "warn",
            "servicenow",
            "GOLIVE_SERVICENOW_URL is empty: inquiries are stored but no incident is made",
        )
    url = settings.servicenow_url.rstrip("/") + "/api/now/table/sys_user_group"
    auth = aiohttp.encode_basic_auth(
        settings.servicenow_user, settings.servicenow_password.get_secret_value()
    )
    params = {
        "sysparm_query": f"name={settings.tier2_group}",
        "sysparm_fields": "sys_id,name",
        "sysparm_limit": "1",
    }
    try:
        async with session.get(
            url, params=params, headers={"Authorization": auth, "Accept": "application/json"}
        ) as r:
            if r.status != 200:
                return "FAIL", "servicenow", f"HTTP {r.status} from the Table API"
            found = (await r.json()).get("result") or []
    except (aiohttp.ClientError, TimeoutError) as error:
        return "FAIL", "servicenow", f"unreachable ({type(error).__name__})"
    if not found:
        return "FAIL", "servicenow", f"group {settings.tier2_group!r} not found"
    return "ok", "servicenow", f"signed in as {settings.servicenow_user}; {settings.tier2_group} found"


async def _graph(settings: Settings, session: aiohttp.ClientSession) -> Result:
    if not settings.team_id:
        return "warn", "graph", "GOLIVE_TEAM_ID is empty: learnt from the bot's install event"
    url = f"{settings.graph_url.rstrip('/')}/teams/{settings.team_id}"
    headers = {"Authorization": "Bearer development"} if settings.development else {}
    if not settings.development:
        return "warn", "graph", "not probed in production (needs an app-only token)"
    try:
        async with session.get(url, headers=headers) as response:
            if response.status != 200:
                return "FAIL", "graph", f"HTTP {response.status} for the Go Live team"
    except (aiohttp.ClientError, TimeoutError) as error:
        return "FAIL", "graph", f"unreachable ({type(error).__name__})"
    return "ok", "graph", "Go Live team found"


async def _slack(settings: Settings) -> Result:
    """Slack's connectivity: ``auth.test`` with the bot token."""
    if not settings.slack_enabled:
        return "ok", "slack", "off (GOLIVE_SLACK_BOT_TOKEN and GOLIVE_SLACK_SIGNING_SECRET not both set)"
    api = SlackApi(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    try:
        answer = await api.call("auth.test")
    except PortError as error:
        return "FAIL", "slack", f"auth.test failed: {getattr(error, 'reason', type(error).__name__)}"
    finally:
        await api.close()
    team = answer.get("team") or answer.get("team_id") or "the workspace"
    watched = ", ".join(f"#{name}" for name in settings.slack_watched_channels) or "no channel"
    return "ok", "slack", f"signed in to {team} as {answer.get('user') or 'the bot'}; watching {watched}"


async def _pagerduty(settings: Settings) -> Result:
    """Reads the primary and backup schedules: an expired token or a wrong id is named."""
    from bot.integrations import pagerduty_roster

    source = pagerduty_roster(settings)
    if source is None:
        if settings.pagerduty_token.get_secret_value():
            return (
                "FAIL",
                "pagerduty",
                "GOLIVE_PAGERDUTY_SCHEDULE_IDS must name the primary, then the backup schedule",
            )
        return "warn", "pagerduty", "GOLIVE_PAGERDUTY_TOKEN is empty: the roster comes from CSV imports only"
    try:
        return "ok", "pagerduty", await source.check()
    except PortError as error:
        return "FAIL", "pagerduty", str(error)
    finally:
        await source.close()


async def _followups(settings: Settings) -> Result:
    """Signs in to the follow-up tracker: an expired token is named."""
    from bot.integrations import followup_tracker, tracker_name

    name = tracker_name(settings)
    tracker = followup_tracker(settings)
    if tracker is None:
        missing = ", ".join(settings.followup_missing())
        return "warn", "followups", f"{name} follow-ups are off ({missing} empty)"
    try:
        return "ok", "followups", f"{name}: {await tracker.check()}"
    except PortError as error:
        return "FAIL", "followups", f"{name}: {error}"
    finally:
        await tracker.close()


async def run_checks(settings: Settings) -> list[Result]:
    results: list[Result] = []
    try:
        settings.check_can_serve()
        results.append(("ok", "settings", f"{settings.env.value} mode"))
    except ConfigurationError as error:
        results.append(("FAIL", "settings", str(error)))
    results.append(await _database(settings))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        results.append(await _servicenow(settings, session))
        results.append(await _graph(settings, session))
    results.append(await _slack(settings))
    results.append(await _pagerduty(settings))
    results.append(await _followups(settings))
    return results


def cmd_check(args: argparse.Namespace) -> int:
    from bot.cli import _settings

    results = asyncio.run(run_checks(_settings()))
    for status, what, detail in results:
        print(f"{status:4}  {what:10}  {detail}")
    return 1 if any(status == "FAIL" for status, _, _ in results) else 0
