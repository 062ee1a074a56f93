"""In-memory fakes of the ports (``bot.ports``), for use-case tests that need no servers.

Each fake keeps what it was asked to do in plain lists and dicts a test can read, and can be told to
fail (``fail_next``) with the ports' own errors. ``tests/contracts`` runs each fake and its real
adapter (against its emulator) through the same cases, so the fakes cannot drift from the truth.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote

from bot.followups.body import carries_marker
from bot.ports import (
    ChatChannel,
    FollowUp,
    FollowUpRequest,
    IncidentDraft,
    IncidentRecord,
    JournalEntry,
    Mention,
    Message,
    OnCallEntry,
    Permanent,
    Person,
    PersonContact,
    PortError,
    ThreadRef,
    Transient,
    UserRef,
)
from servicenow.model import STATE_LABELS, STATE_NEW, STATE_RESOLVED


class Failures:
    """Errors to raise on the next calls (a test's fault injection)."""

    def __init__(self) -> None:
        self._queue: list[tuple[PortError, str | None]] = []

    def fail_next(self, error: PortError, times: int = 1, op: str | None = None) -> None:
        """The next ``times`` calls (of operation ``op`` only, when given) raise ``error``."""
        self._queue.extend([(error, op)] * times)

    def check(self, op: str | None = None) -> None:
        for index, (error, only) in enumerate(self._queue):
            if only is None or only == op:
                del self._queue[index]
                raise error


@dataclass
class Post:
    """One message the bot posted (or updated) on a fake chat platform."""

    id: str
    channel_id: str
    thread_root: str | None  # None: a new top-level post
    message: Message
    updates: list[Message] = field(default_factory=list)

    @property
    def current(self) -> Message:
        return self.updates[-1] if self.updates else self.message


class FakeChat:
    """``ChatPlatform``: every post, update and direct message, in order."""

    def __init__(self, platform: str = "teams") -> None:
        self._platform = platform
        self.posts: list[Post] = []
        self.direct: list[tuple[str, Message]] = []
        # People the platform can tell about, by Entra object id (or platform id).
        self.contacts: dict[str, PersonContact] = {}
        self.link_base = "https://chat.example/l/"
        self.failures = Failures()
        self._ids = itertools.count(1000)

    @property
    def platform(self) -> str:
        return self._platform

    def _new_id(self) -> str:
        return str(next(self._ids))

    async def post_in_thread(self, thread: ThreadRef, message: Message) -> str:
        self.failures.check("post_in_thread")
        post = Post(self._new_id(), thread.channel_id, thread.root_id, message)
        self.posts.append(post)
        return post.id

    async def start_thread(self, channel_id: str, message: Message) -> ThreadRef:
        self.failures.check("start_thread")
        post = Post(self._new_id(), channel_id, None, message)
        self.posts.append(post)
        return ThreadRef(self._platform, channel_id, post.id)  # type: ignore[arg-type]

    async def update_message(self, thread: ThreadRef, message_id: str, message: Message) -> None:
        self.failures.check("update_message")
        post = next((p for p in self.posts if p.id == message_id), None)
        if post is None:
            raise Permanent(f"message {message_id} not found")
        post.updates.append(message)

    async def send_direct(self, person: Mention, message: Message) -> None:
        self.failures.check("send_direct")
        if not (person.aad_object_id or person.email or person.slack_user_id):
            raise Permanent("the person has no identity to message")
        self.direct.append((person.aad_object_id or person.email or person.name, message))

    async def reply_direct(self, conversation_id: str, message: Message) -> None:
        self.failures.check("reply_direct")
        self.direct.append((conversation_id, message))

    async def find_posted(self, channel_id: str, thread_root: str | None, message: Message) -> str | None:
        for post in self.posts:
            if post.channel_id != channel_id or post.thread_root != thread_root:
                continue
            same = (
                post.message.key == message.key
                if message.view is not None and message.key
                else post.message.text == message.text
            )
            if same:
                return post.id
        return None

    async def thread_link(self, thread: ThreadRef, channel_name: str | None = None) -> str | None:
        self.failures.check("thread_link")
        return f"{self.link_base}{quote(thread.channel_id, safe='')}/{thread.root_id}"

    async def person_contact(self, thread: ThreadRef, person: Person) -> PersonContact | None:
        self.failures.check("person_contact")
        return self.contacts.get(person.aad_object_id or person.id)

    def in_thread(self, thread: ThreadRef) -> list[Post]:
        return [
            p for p in self.posts if p.channel_id == thread.channel_id and p.thread_root == thread.root_id
        ]

    def new_threads(self, channel_id: str | None = None) -> list[Post]:
        return [p for p in self.posts if p.thread_root is None and channel_id in (None, p.channel_id)]


class FakeDirectory:
    """``ChannelDirectory``: channels by name, with archive state."""

    def __init__(self) -> None:
        self.channels: dict[str, ChatChannel] = {}
        self.failures = Failures()
        self._ids = itertools.count(1)

    async def ensure_channel(self, display_name: str, description: str) -> ChatChannel:
        self.failures.check("ensure_channel")
        existing = next((c for c in self.channels.values() if c.name == display_name), None)
        if existing is not None:
            channel = replace(existing, archived=False)
        else:
            channel = ChatChannel(f"19:fake-{next(self._ids)}@thread.tacv2", display_name)
        self.channels[channel.id] = channel
        return channel

    async def find_channel(self, display_name: str) -> ChatChannel | None:
        self.failures.check("find_channel")
        return next((c for c in self.channels.values() if c.name == display_name), None)

    async def rename_channel(self, channel_id: str, display_name: str) -> None:
        self.failures.check("rename_channel")
        self.channels[channel_id] = replace(self._get(channel_id), name=display_name)

    async def archive_channel(self, channel_id: str) -> None:
        self.failures.check("archive_channel")
        self.channels[channel_id] = replace(self._get(channel_id), archived=True)

    def _get(self, channel_id: str) -> ChatChannel:
        if channel_id not in self.channels:
            raise Permanent("Graph: team or channel not found")
        return self.channels[channel_id]


class FakeTracker:
    """``IncidentTracker``: incidents by sys_id, idempotent by correlation id, with a journal and the
    tracker's users (``add_user``; ``refuse`` names person fields the instance will not take)."""

    def __init__(
        self,
        base_url: str = "https://servicenow.example",
        integration_user: str = "golive.integration",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._clock = now or (lambda: datetime.now(UTC))
        self.incidents: dict[str, IncidentRecord] = {}
        self.drafts: dict[str, IncidentDraft] = {}
        self.descriptions: dict[str, str] = {}
        self.journal: list[JournalEntry] = []
        self.users: dict[str, UserRef] = {}
        self.emails: dict[str, str] = {}  # e-mail (lower case) -> user name
        self.refuse: set[str] = set()
        self.creates = 0
        self.failures = Failures()
        self._base_url = base_url
        self._integration_user = integration_user
        self._numbers = itertools.count(10001)
        self._ids = itertools.count(1)

    def _now(self) -> datetime:
        return self._clock()

    def add_user(self, user_name: str, name: str, email: str = "") -> UserRef:
        user = UserRef(f"{next(self._ids) + 0x5000:032x}", user_name, name)
        self.users[user_name] = user
        if email:
            self.emails[email.lower()] = user_name
        return user

    def _user(self, user_name: str | None) -> UserRef | None:
        return self.users.get(user_name or "")

    def _name(self, user_name: str | None) -> str:
        user = self._user(user_name)
        return user.name if user else (user_name or "")

    async def find_user(self, email: str | None = None, user_name: str | None = None) -> UserRef | None:
        self.failures.check("find_user")
        if email and email.lower() in self.emails:
            return self.users[self.emails[email.lower()]]
        return self._user(user_name)

    async def create_incident(self, draft: IncidentDraft, *, known_new: bool = False) -> IncidentRecord:
        self.failures.check("create_incident")
        existing = next(
            (r for r in self.incidents.values() if r.correlation_id == draft.correlation_id), None
        )
        if existing is not None:
            return existing
        self.creates += 1
        sys_id = f"{next(self._ids):032x}"
        caller = next((u for u in self.users.values() if u.sys_id == draft.caller_sys_id), None)
        record = IncidentRecord(
            sys_id=sys_id,
            number=f"INC{next(self._numbers):07d}",
            state=STATE_NEW,
            state_label=STATE_LABELS[STATE_NEW],
            assignment_group=draft.assignment_group,
            assigned_to=draft.assigned_to,
            short_description=draft.short_description[:160],
            correlation_id=draft.correlation_id,
            sys_mod_count=0,
            updated_at=self._now(),
            close_code="",
            close_notes="",
            hold_reason="",
            url=f"{self._base_url}/nav_to.do?uri=incident.do?sys_id={sys_id}",
            assigned_to_name=self._name(draft.assigned_to),
            correlation_display=draft.correlation_display,
            caller_name=caller.name if caller else draft.caller_name,
            caller_sys_id=caller.sys_id if caller else "",
        )
        self.incidents[sys_id] = record
        self.drafts[sys_id] = draft
        self.descriptions[sys_id] = draft.description
        return record

    async def find_by_correlation_id(self, correlation_id: str) -> IncidentRecord | None:
        self.failures.check("find_by_correlation_id")
        return next((r for r in self.incidents.values() if r.correlation_id == correlation_id), None)

    async def get_incident(self, sys_id: str) -> IncidentRecord:
        self.failures.check("get_incident")
        if sys_id not in self.incidents:
            raise Permanent("incident not found in ServiceNow")
        return self.incidents[sys_id]

    def _update(self, sys_id: str, **values: object) -> IncidentRecord:
        record = self.incidents.get(sys_id)
        if record is None:
            raise Permanent("incident not found in ServiceNow")
        record = replace(record, sys_mod_count=record.sys_mod_count + 1, updated_at=self._now(), **values)  # type: ignore[arg-type]
        self.incidents[sys_id] = record
        return record

    def _journal(self, sys_id: str, element: str, text: str) -> None:
        self._update(sys_id)
        self.journal.append(
            JournalEntry(
                f"j{next(self._ids):031x}", sys_id, element, text, self._integration_user, self._now()
            )  # type: ignore[arg-type]
        )

    async def add_comment(self, sys_id: str, text: str) -> None:
        self.failures.check("add_comment")
        self._journal(sys_id, "comments", text)

    async def add_work_note(self, sys_id: str, text: str) -> None:
        self.failures.check("add_work_note")
        self._journal(sys_id, "work_notes", text)

    async def set_assignment_group(
        self, sys_id: str, group_name: str, *, actor: str | None = None
    ) -> IncidentRecord:
        self.failures.check("set_assignment_group")
        # As on an instance without an assignment rule: the assignee stays.
        return self._update(sys_id, assignment_group=group_name)

    async def assign_to(
        self, sys_id: str, user_name: str | None, *, actor: str | None = None
    ) -> IncidentRecord:
        self.failures.check("assign_to")
        if user_name and self._user(user_name) is None:
            raise Permanent("ServiceNow rejected the request (status 404)")
        if user_name and "assigned_to" in self.refuse:
            return replace(self._update(sys_id), refused_fields=frozenset({"assigned_to"}))
        return self._update(sys_id, assigned_to=user_name or None, assigned_to_name=self._name(user_name))

    async def set_state(
        self, sys_id: str, state: int, hold_reason: str = "", *, actor: str | None = None
    ) -> IncidentRecord:
        self.failures.check("set_state")
        values: dict[str, object] = {
            "state": state,
            "state_label": STATE_LABELS.get(state, str(state)),
            "hold_reason": hold_reason,
        }
        if state == STATE_RESOLVED:
            return self._resolved(sys_id, actor, **values)
        return self._update(sys_id, **values)

    async def resolve(
        self, sys_id: str, close_code: str, close_notes: str, *, resolved_by: str | None = None
    ) -> IncidentRecord:
        self.failures.check("resolve")
        return self._resolved(
            sys_id,
            resolved_by,
            state=STATE_RESOLVED,
            state_label=STATE_LABELS[STATE_RESOLVED],
            close_code=close_code,
            close_notes=close_notes,
        )

    def _resolved(self, sys_id: str, resolved_by: str | None, **values: object) -> IncidentRecord:
        """Resolved by ``resolved_by`` when the tracker knows them and takes the field, else by the
        integration user (the instance's default), with the refusal on the record returned."""
        person = self._user(resolved_by)
        taken = person is not None and "resolved_by" not in self.refuse
        who = person.user_name if taken and person else self._integration_user
        record = self._update(
            sys_id,
            **values,
            resolved_at=self._now(),
            resolved_by=who,
            resolved_by_name=self._name(who),
        )
        return (
            replace(record, refused_fields=frozenset({"resolved_by"}))
            if resolved_by and not taken
            else record
        )

    async def update_description(
        self, sys_id: str, short_description: str, description: str
    ) -> IncidentRecord:
        self.failures.check("update_description")
        record = self._update(sys_id, short_description=short_description[:160])
        self.descriptions[sys_id] = description
        return record

    async def incidents_updated_since(
        self, since: datetime, correlation_display: str
    ) -> list[IncidentRecord]:
        self.failures.check("incidents_updated_since")
        return sorted(
            (
                r
                for r in self.incidents.values()
                if r.updated_at >= since and r.correlation_display == correlation_display
            ),
            key=lambda r: r.updated_at,
        )

    async def journal_since(self, incident_sys_ids: Sequence[str], since: datetime) -> list[JournalEntry]:
        self.failures.check("journal_since")
        wanted = set(incident_sys_ids)
        return [e for e in self.journal if e.incident_sys_id in wanted and e.created_at >= since]

    def notes(self, sys_id: str, element: str = "work_notes") -> list[str]:
        return [e.value for e in self.journal if e.incident_sys_id == sys_id and e.element == element]


class FakeRosterSource:
    """``RosterSource``: on-call entries a test sets."""

    def __init__(self, entries: Sequence[OnCallEntry] = ()) -> None:
        self.entries = list(entries)
        self.failures = Failures()

    async def on_call(self, since: datetime, until: datetime) -> list[OnCallEntry]:
        """The entries overlapping ``[since, until)``, clamped to it (as PagerDuty's are)."""
        self.failures.check("on_call")
        return [
            replace(e, start=max(e.start, since), end=min(e.end, until))
            for e in self.entries
            if e.end > since and e.start < until
        ]


class FakeFollowUps:
    """``FollowUpTracker``: issues by key, found by their marker (a whole line of the body).

    ``lose_next_replies(n)``: the next n creates land, then fail as if their answer was lost."""

    def __init__(self) -> None:
        self.issues: dict[str, tuple[FollowUpRequest, FollowUp]] = {}
        self.failures = Failures()
        self.creates = 0
        self._numbers = itertools.count(1)
        self._lost_replies = 0

    def lose_next_replies(self, times: int = 1) -> None:
        self._lost_replies += times

    async def find(self, marker: str) -> FollowUp | None:
        self.failures.check("find")
        return next(
            (issue for request, issue in self.issues.values() if carries_marker(request.body, marker)), None
        )

    async def create(self, request: FollowUpRequest) -> FollowUp:
        self.failures.check("create")
        self.creates += 1
        number = next(self._numbers)
        issue = FollowUp(
            f"#{number}", f"https://github.example/issues/{number}", "open", assignee=request.assignee
        )
        self.issues[issue.key] = (request, issue)
        if self._lost_replies:
            self._lost_replies -= 1
            raise Transient("GitHub could not be reached (the answer was lost)", retry_after=0)
        return issue

    async def get(self, key: str) -> FollowUp:
        self.failures.check("get")
        if key not in self.issues:
            raise Permanent(f"follow-up {key} not found")
        return self.issues[key][1]

    def set_state(self, key: str, state: str) -> None:
        """As when someone closes the issue in the tracker."""
        request, issue = self.issues[key]
        self.issues[key] = (request, replace(issue, state=state))


__all__ = [
    "Failures",
    "FakeChat",
    "FakeDirectory",
    "FakeFollowUps",
    "FakeRosterSource",
    "FakeTracker",
    "Post",
    "Transient",
]
