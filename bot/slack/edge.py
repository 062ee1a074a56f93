"""``POST /slack/events``: the one endpoint Slack calls (Events API, interactivity, slash commands),
as a Bolt app has it.

The request is read whole and its v0 signature checked on the raw bytes before anything else
(``bot.slack.signature``), then:

- 401 unsigned, wrongly signed, or a timestamp more than 5 minutes off the wall clock either way;
- 413 a body over 1 MiB; 415 neither JSON nor a form;
- 400 a body the product could not process later (not JSON, NaN, nesting deeper than 64, a lone
  surrogate or NUL, a form that is not UTF-8, a field it reads of the wrong type, an id or ``ts``
  that is not Slack-shaped: ``bot.inbound``, ``bot.slack.events``);
- 200 ``{"challenge"}`` for ``url_verification``;
- 200 and nothing stored for what the bot does not act on (other event types and subtypes, the
  bot's own and other bots' messages, interactions other than ``block_actions``);
- 200 once an accepted request is stored (group-committed with others arriving at the same time),
  so the answer waits for one database commit and is well inside Slack's 3 seconds; the router
  works on it afterwards. Only a storage failure answers 503, so Slack delivers it again.

4xx answers carry ``X-Slack-No-Retry: 1``: retrying cannot make them good. Redeliveries (the same
``event_id`` with ``X-Slack-Retry-Num``) are absorbed by the inbox's key; the same message under a
new ``event_id`` is absorbed later, by the use cases' own record of (channel, ts). Log lines carry
kinds and reasons, never message text.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from bot.inbound import BodyRejected, check_storable, convert, decode_json, read_body
from bot.slack import events as model
from bot.slack.signature import SignatureRejected, SignatureVerifier

log = logging.getLogger(__name__)

StoreEvent = Callable[[dict[str, Any], str], Awaitable[None]]
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
MAX_FORM_FIELDS = 100


@dataclass(frozen=True)
class Accepted:
    """What to do with a verified request: answer it now (``answer``), or store ``stored`` under
    ``key`` and answer 200; neither means 200 and nothing stored."""

    stored: model.Stored | None = None
    key: str = ""
    answer: web.Response | None = None


def _refusal(status: int, reason: str) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=status, headers={"X-Slack-No-Retry": "1"})


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def events_request(body: bytes) -> Accepted:
    """An Events API JSON body."""
    payload = decode_json(body)
    if not isinstance(payload, dict):
        raise BodyRejected("body must be a JSON object")
    envelope = convert(payload, model.Envelope)
    if envelope.type == "url_verification":
        if envelope.challenge is None:
            raise BodyRejected("url_verification without a challenge")
        return Accepted(answer=web.json_response({"challenge": envelope.challenge}))
    if envelope.type != "event_callback":
        if envelope.type == "app_rate_limited":
            log.warning("Slack says events were dropped: the app is rate limited")
        return Accepted()
    callback = convert(payload, model.EventCallback)
    if not _EVENT_ID.match(callback.event_id):
        raise BodyRejected("event_id is not a Slack event id")
    event_type = callback.event.get("type")
    if not isinstance(event_type, str) or event_type not in model.HANDLED_EVENTS:
        return Accepted()
    event = convert(callback.event, model.MessageEvent)
    if not model.is_handled(event):
        return Accepted()
    problem = model.event_problem(event)
    if problem is not None:
        raise BodyRejected(problem)
    return Accepted(model.Stored("event", payload), f"slack:event:{callback.event_id}")


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except UnicodeDecodeError:
        raise BodyRejected("form body is not UTF-8") from None
    except ValueError:
        raise BodyRejected(f"form has more than {MAX_FORM_FIELDS} fields") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise BodyRejected(f"form field {name[:40]!r} is repeated")
        form[name] = value
    check_storable(form)
    return form


def form_request(body: bytes) -> Accepted:
    """Interactivity (``payload=<JSON>``) or a slash command (plain fields)."""
    form = _form(body)
    if "payload" in form:
        payload = decode_json(form["payload"].encode())
        if not isinstance(payload, dict):
            raise BodyRejected("payload must be a JSON object")
        actions = convert(payload, model.BlockActions)
        if actions.type != "block_actions":
            return Accepted()  # view submissions, shortcuts...: not used by the bot
        problem = _block_actions_problem(actions)
        if problem is not None:
            raise BodyRejected(problem)
        key = actions.trigger_id or _digest(body)
        return Accepted(model.Stored("interactive", payload), f"slack:action:{key}"[:400])
    if "command" in form:
        command = convert(form, model.SlashCommand)
        if not model.is_id(command.user_id) or not model.is_id(command.channel_id):
            raise BodyRejected("user_id and channel_id must be Slack ids")
        key = command.trigger_id or _digest(body)
        return Accepted(model.Stored("command", dict(form)), f"slack:command:{key}"[:400])
    if form.get("ssl_check") == "1":
        return Accepted()  # Slack checking the certificate: nothing to do
    raise BodyRejected("form has neither payload nor command")


def _block_actions_problem(actions: model.BlockActions) -> str | None:
    if actions.user is None or not model.is_id(actions.user.id):
        return "block_actions.user.id is not a Slack user id"
    container = actions.container or model.Container()
    channel = container.channel_id or (actions.channel.id if actions.channel else None)
    if not model.is_id(channel):
        return "block_actions has no Slack channel id"
    if not model.is_ts(container.message_ts):
        return "block_actions.container.message_ts is not a Slack timestamp"
    if not actions.actions:
        return "block_actions has no actions"
    return None


def make_events_handler(
    verifier: SignatureVerifier, store_event: StoreEvent
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def slack_events(request: web.Request) -> web.StreamResponse:
        try:
            body = await read_body(request)
        except BodyRejected as rejected:
            return _refusal(rejected.status, rejected.reason)
        try:
            verifier.verify(request.headers, body)
        except SignatureRejected as rejected:
            log.info("rejected Slack request: %s", rejected.reason)
            return _refusal(401, rejected.reason)
        content_type = request.content_type.lower()
        try:
            if content_type == "application/json":
                accepted = events_request(body)
            elif content_type == "application/x-www-form-urlencoded":
                accepted = form_request(body)
            else:
                return _refusal(415, "Content-Type must be application/json or a form")
        except BodyRejected as rejected:
            log.info("refused Slack request: %s", rejected.reason)
            return _refusal(rejected.status, rejected.reason)
        if accepted.answer is not None:
            return accepted.answer
        if accepted.stored is None:
            return web.Response(status=200)
        if "X-Slack-Retry-Num" in request.headers:
            log.info("Slack redelivery %s", request.headers.get("X-Slack-Retry-Num", "")[:4])
        try:
            await store_event(msgspec.to_builtins(accepted.stored), accepted.key)
        except Exception as error:  # only storage can fail here: Slack delivers it again
            log.warning("Slack request could not be stored (%s)", type(error).__name__)
            return web.json_response({"ok": False, "error": "not stored; try again"}, status=503)
        return web.Response(status=200)

    return slack_events


__all__ = ["Accepted", "events_request", "form_request", "make_events_handler"]
