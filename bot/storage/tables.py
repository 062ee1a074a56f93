"""The product's tables (SQLAlchemy Core). Schema changes go through Alembic migrations.

One database holds everything a restart must not lose: the inbox of received activities, the outbox
of pending ServiceNow/Teams work, inquiries and their incident links, the rollout plan, channel
states, the duty roster, the audit trail and the sync watermarks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no offset, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _utc(name: str, **kwargs) -> Column:
    return Column(name, UTCDateTime(), **kwargs)


# Received activities, keyed by (conversation id, activity id) so a redelivery is recognised.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(400), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    _utc("received_at", nullable=False),
)

# Raw inbound events as their sender delivered them (Teams activities, Slack events, alert webhooks):
# written (group-committed) before the HTTP answer, then processed in order by the activity
# processor; the payload is dropped once processed. One that still fails after the attempt limit is
# a dead letter (dead_at), kept with its payload for an operator to retry or drop.
received_activities = Table(
    "received_activities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(400), nullable=False, unique=True),
    Column("source", String(20), nullable=False, server_default="teams"),
    Column("payload", JSON, nullable=True),
    _utc("received_at", nullable=False),
    _utc("processed_at", nullable=True, index=True),
    _utc("lease_until", nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    _utc("dead_at", nullable=True),
    Column("last_error", String(300), nullable=True),
)

# Pending side effects, drained by workers with leases, retries and backoff.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("dedupe_key", String(400), nullable=True, unique=True),
    Column("inquiry_id", Integer, nullable=True, index=True),
    Column("payload", JSON, nullable=False, default=dict),
    _utc("created_at", nullable=False),
    _utc("next_attempt_at", nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    # Incremented when a worker starts the job (attempts counts finished tries): a job started
    # before but never finished may have had an effect upstream.
    Column("starts", Integer, nullable=False, default=0, server_default="0"),
    Column("lease_owner", String(80), nullable=True),
    _utc("lease_until", nullable=True),
    _utc("done_at", nullable=True, index=True),
    Column("last_error", String(300), nullable=True),
    # A job that can never succeed (a permanent error, or too many unexpected failures) is a dead
    # letter: not done, not due, blocking later jobs of its inquiry until an operator acts.
    _utc("dead_at", nullable=True),
)

# Where the bot can reach Teams proactively (from the install event or any received activity).
teams_context = Table(
    "teams_context",
    metadata,
    Column("team_thread_id", String(200), primary_key=True),
    Column("graph_team_id", String(80), nullable=True),
    Column("service_url", String(500), nullable=False),
    Column("tenant_id", String(80), nullable=True),
    Column("bot_id", String(200), nullable=True),
    Column("bot_name", String(200), nullable=True),
    Column("installed", Boolean, nullable=False, default=True),
    Column("archived", Boolean, nullable=False, default=False),
    _utc("updated_at", nullable=False),
)

# The rollout plan: one row per site.
sites = Table(
    "sites",
    metadata,
    Column("station", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("week_start", Date, nullable=False, index=True),
    Column("go_live_date", Date, nullable=False),
    Column("pulled", Boolean, nullable=False, default=False),
    _utc("updated_at", nullable=False),
)

# A go-live channel per site: planned -> open -> retired (or cancelled).
channels = Table(
    "channels",
    metadata,
    Column("station", String(20), primary_key=True),
    Column("channel_id", String(200), nullable=True, unique=True),
    Column("display_name", String(300), nullable=True),
    Column("status", String(20), nullable=False, default="planned"),
    _utc("opened_at", nullable=True),
    _utc("retired_at", nullable=True),
    Column("welcome_activity_id", String(200), nullable=True),
)

# One inquiry (a top-level post in a go-live channel) <-> one ServiceNow incident.
inquiries = Table(
    "inquiries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correlation_id", String(64), nullable=False, unique=True),
    # The chat platform of the thread ("teams" or "slack"); channel and root ids are that platform's.
    Column("platform", String(20), nullable=False, server_default="teams"),
    Column("channel_id", String(200), nullable=False, index=True),
    Column("root_message_id", String(100), nullable=False),
    Column("conversation_id", String(400), nullable=False, index=True),
    Column("station", String(20), nullable=True, index=True),
    Column("site_name", String(200), nullable=True),
    Column("author_name", String(200), nullable=False),
    Column("author_aad_id", String(80), nullable=True),
    # The poster's id on the platform (Teams "29:...", Slack "U..."), to look their e-mail up.
    Column("author_id", String(200), nullable=True),
    Column("text", Text, nullable=False),
    _utc("posted_at", nullable=False),
    _utc("received_at", nullable=False),
    Column("go_live_day", Integer, nullable=True),
    Column("late", Boolean, nullable=False, default=False),
    Column("logged_by_engineer", Boolean, nullable=False, default=False),
    Column("sys_id", String(32), nullable=True, index=True),
    Column("number", String(20), nullable=True),
    Column("incident_url", String(500), nullable=True),
    Column("state", Integer, nullable=True),
    Column("state_label", String(40), nullable=True),
    Column("assignment_group", String(200), nullable=True),
    Column("assigned_to", String(200), nullable=True),
    # Display names as ServiceNow gives them (cards show names, never logins).
    Column("assigned_to_name", String(200), nullable=True),
    Column("resolved_by_name", String(200), nullable=True),
    # A link that opens the thread in the chat client (Teams deep link).
    Column("thread_url", String(1000), nullable=True),
    Column("sys_mod_count", Integer, nullable=True),
    Column("hold_reason", String(100), nullable=True),
    Column("close_code", String(100), nullable=True),
    Column("close_notes", Text, nullable=True),
    Column("card_activity_id", String(200), nullable=True),
    _utc("first_response_at", nullable=True),
    Column("first_response_by", String(200), nullable=True),
    Column("first_response_source", String(40), nullable=True),
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("suggested_group", String(200), nullable=True),
    Column("triage", String(100), nullable=True),
    Column("re_routes", Integer, nullable=False, default=0),
    _utc("resolved_at", nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    # When the retention purge erased the text (text and close_notes are then empty).
    _utc("purged_at", nullable=True),
    UniqueConstraint("conversation_id", name="uq_inquiries_thread"),
)

# Every group change of an inquiry's incident, whoever made it.
route_events = Table(
    "route_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("inquiry_id", Integer, nullable=False, index=True),
    _utc("at", nullable=False),
    Column("from_group", String(200), nullable=True),
    Column("to_group", String(200), nullable=False),
    Column("source", String(20), nullable=False),
    Column("actor", String(200), nullable=True),
)

# Escalations raised for an inquiry without a first response.
escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("inquiry_id", Integer, nullable=False, index=True),
    Column("level", Integer, nullable=False),
    _utc("at", nullable=False),
    Column("notified", String(200), nullable=True),
    UniqueConstraint("inquiry_id", "level", name="uq_escalations_inquiry_level"),
)

# Journal entries already shown in Teams (or written by us), so none is shown twice.
journal_seen = Table(
    "journal_seen",
    metadata,
    Column("journal_sys_id", String(32), primary_key=True),
    Column("inquiry_id", Integer, nullable=True),
    _utc("seen_at", nullable=False),
)

# Small documents and watermarks: the duty roster, the sync watermark, leader heartbeat...
documents = Table(
    "documents",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
    _utc("updated_at", nullable=False),
)

# Who changed the plan or the roster, when, and what.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _utc("at", nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("detail", Text, nullable=False),
    # The stations the row is about, space-separated with a space at each end (" 508 528A7 "), so
    # "every change to 508" is one LIKE; NULL for rows about no site.
    Column("stations", Text, nullable=True),
)

# A plan change previewed in a chat, waiting for its Confirm: the proposed plan exactly as shown,
# the plan it was computed from (by fingerprint, so a stale preview is refused) and who may confirm.
plan_proposals = Table(
    "plan_proposals",
    metadata,
    Column("id", String(40), primary_key=True),
    _utc("created_at", nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requester", String(200), nullable=False),
    Column("platform", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("summary", Text, nullable=False),
    Column("base_fingerprint", String(64), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("shown", JSON, nullable=False),
    Column("force", Boolean, nullable=False, default=False),
    Column("status", String(20), nullable=False, default="pending"),
    _utc("decided_at", nullable=True),
    Column("decided_by", String(200), nullable=True),
)

# Claimed schedule slots: the second line of defence against a job running twice.
schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("job_id", String(100), primary_key=True),
    Column("slot", String(100), primary_key=True),
    _utc("claimed_at", nullable=False),
    Column("claimed_by", String(80), nullable=False),
)

# Monitoring alerts: one row per alert group (``kind`` "group", keyed by ``{source}:{group_key}``) and
# one per alert storm (``kind`` "storm", source "storm"). A group has its own ServiceNow incident and
# post, or belongs to a storm (``storm_id``) whose incident and post stand for it. ``version`` counts
# changes the post must show; ``posted_*_version`` what each platform's post shows. ``opened_at`` is
# when a group's own incident was decided: the storm limiter counts those of the last 60 s.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False, server_default="group"),
    Column("source", String(20), nullable=False),
    Column("group_key", String(200), nullable=False),
    Column("correlation_id", String(240), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("level", String(10), nullable=False),
    Column("state", String(20), nullable=False),
    Column("environment", String(100), nullable=True),
    Column("project", String(100), nullable=True),
    Column("service", String(100), nullable=True),
    Column("links", JSON, nullable=False, default=list),
    Column("tags", JSON, nullable=False, default=list),
    Column("count", Integer, nullable=False, default=1),
    _utc("first_seen", nullable=False),
    _utc("last_seen", nullable=False),
    _utc("received_at", nullable=False, index=True),
    _utc("updated_at", nullable=False),
    _utc("opened_at", nullable=True, index=True),
    Column("storm_id", Integer, nullable=True, index=True),
    Column("members", Integer, nullable=False, default=0),
    _utc("last_joined_at", nullable=True),
    Column("assignment_group", String(200), nullable=True),
    Column("re_routes", Integer, nullable=False, default=0),
    Column("sys_id", String(32), nullable=True),
    Column("number", String(20), nullable=True),
    Column("incident_url", String(500), nullable=True),
    Column("incident_state", Integer, nullable=True),
    Column("incident_group", String(200), nullable=True),
    Column("incident_tries", Integer, nullable=False, default=0),
    Column("teams_channel_id", String(200), nullable=True),
    Column("teams_message_id", String(200), nullable=True),
    Column("slack_channel_id", String(200), nullable=True),
    Column("slack_message_id", String(200), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("posted_teams_version", Integer, nullable=False, default=0),
    Column("posted_slack_version", Integer, nullable=False, default=0),
    Column("sync_pending", Boolean, nullable=False, default=False),
    _utc("lease_until", nullable=True),
    Column("noted_count", Integer, nullable=False, default=1),
    Column("noted_state", String(20), nullable=True),
    _utc("last_note_at", nullable=True),
    _utc("acknowledged_at", nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("escalated_to", String(200), nullable=True),
    UniqueConstraint("source", "group_key", name="uq_alerts_group"),
)

# One follow-up issue (GitHub or Jira) per incident, keyed by the incident's correlation id: the row
# is claimed in the transaction of the first "Follow-up issue" press, so every later or concurrent
# press finds it; the outbox job that files the issue records the tracker's answer and each step it
# has done (the thread post, the work note), so a retried job repeats none of them.
followups = Table(
    "followups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correlation_id", String(240), nullable=False, unique=True),
    # Which card's data names the incident ("inquiry"; an alert card says "alert").
    Column("subject", String(20), nullable=False, server_default="inquiry"),
    Column("inquiry_id", Integer, nullable=True, index=True),
    Column("tracker", String(20), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("assignee", String(100), nullable=True),
    _utc("requested_at", nullable=False),
    Column("issue_key", String(100), nullable=True),
    Column("issue_url", String(500), nullable=True),
    Column("issue_state", String(60), nullable=True),
    _utc("filed_at", nullable=True),
    Column("thread_message_id", String(200), nullable=True),
    _utc("noted_at", nullable=True),
    # Why the tracker refused the issue (a setting at fault, never message text); cleared once filed.
    Column("last_error", String(300), nullable=True),
    _utc("updated_at", nullable=False),
)
