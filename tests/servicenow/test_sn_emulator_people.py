"""The emulator's people (sys_user seeding from the config and the CLI) and the refuse_fields fault."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from testkit.servicenow import JSON, Emulator

from emulators.servicenow import (
    EmulatorConfig,
    ServiceNowPerson,
    create_servicenow_emulator,
    parse_args,
    person_from,
)

INCIDENTS = "/api/now/table/incident"


@dataclass(frozen=True)
class TeamsLikePerson:
    """The shape of the Teams emulator's Person (name, aad id, role, email)."""

    name: str
    aad_object_id: str
    role: str = "site-staff"
    email: str = ""


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (("jdoe", "Jane Doe", "jane@x.org"), ServiceNowPerson("jdoe", "Jane Doe", "jane@x.org")),
        (
            {"name": "Pat Frontdesk", "email": "pat.f@va.gov"},
            ServiceNowPerson("pat.f", "Pat Frontdesk", "pat.f@va.gov"),
        ),
        ({"name": "No Mail", "role": "manager"}, ServiceNowPerson("no.mail", "No Mail", "", "manager")),
        (
            TeamsLikePerson("Alex Engineer", "aad-3", "engineer", "alex@va.gov"),
            ServiceNowPerson("alex", "Alex Engineer", "alex@va.gov", "engineer"),
        ),
    ],
)
def test_people_are_read_from_every_shape_the_sandbox_may_pass(
    given: Any, expected: ServiceNowPerson
) -> None:
    assert person_from(given) == expected


@pytest.mark.parametrize("given", [{"email": "x@y"}, ("only", "two"), 42, {"name": ""}])
def test_a_person_without_a_name_is_refused_at_start_up(given: Any) -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(people=[given])


async def test_a_restart_with_a_changed_email_updates_the_same_user(
    tmp_path: Path, aiohttp_server: Callable[..., Any]
) -> None:
    first = create_servicenow_emulator(
        EmulatorConfig(people=[("sclerk", "Sam Clerk", "old@va.gov")], state_dir=tmp_path)
    )
    server = Emulator(await aiohttp_server(first))
    before = server.store.find("sys_user", user_name="sclerk")
    await server.server.close()
    second = create_servicenow_emulator(
        EmulatorConfig(people=[("sclerk", "Sam Clerk", "new@va.gov")], state_dir=tmp_path)
    )
    restarted = Emulator(await aiohttp_server(second))
    after = restarted.store.find("sys_user", user_name="sclerk")
    assert (after["sys_id"], after["email"]) == (before["sys_id"], "new@va.gov")
    assert len([u for u in restarted.store.rows("sys_user") if u["user_name"] == "sclerk"]) == 1


def test_cli_serves_https_when_given_a_certificate(tls_files: tuple[Path, Path]) -> None:
    from emulators.servicenow.app import _ssl_context

    assert _ssl_context([]) is None
    context = _ssl_context(["--port", "0", "--certfile", str(tls_files[0]), "--keyfile", str(tls_files[1])])
    assert context is not None and context.protocol == ssl.PROTOCOL_TLS_SERVER
    with pytest.raises(SystemExit):
        parse_args(["--keyfile", str(tls_files[1])])


def test_cli_reads_people_from_a_json_file(tmp_path: Path) -> None:
    people = tmp_path / "people.json"
    people.write_text(json.dumps([{"name": "Pat Frontdesk", "email": "pat@va.gov", "role": "site-staff"}]))
    _, _, config = parse_args(["--people", str(people)])
    assert config.seeded_people == (ServiceNowPerson("pat", "Pat Frontdesk", "pat@va.gov", "site-staff"),)
    people.write_text('{"not": "a list"}')
    with pytest.raises(SystemExit):
        parse_args(["--people", str(people)])


async def test_refuse_fields_fault_is_validated(emulator: Emulator) -> None:
    async with aiohttp.ClientSession(base_url=emulator.base_url) as session:
        for bad in (
            {"fields": "resolved_by"},
            {"fields": ["x"], "status": 500},
            {"fields": [], "loud": 1},
            [1],
        ):
            async with session.post("/_emulator/faults", json={"refuse_fields": bad}) as response:
                assert response.status == 400
        async with session.post("/_emulator/faults", json={"refuse_fields": ["resolved_by"]}) as response:
            assert await response.json() == {"refuse_fields": ["resolved_by"]}


async def test_refused_field_answers_403_and_changes_nothing(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    engineer = emulator.store.find("sys_user", user_name="jdoe")
    async with http.post(INCIDENTS, json={"short_description": "x"}) as response:
        created = (await response.json())["result"]
    emulator.faults.merge({"refuse_fields": ["assigned_to"]})
    url = f"{INCIDENTS}/{created['sys_id']}"
    async with http.patch(url, json={"assigned_to": engineer["sys_id"], "state": "2"}) as response:
        assert response.status == 403
        assert (await response.json())["error"][
            "detail"
        ] == "ACL Exception Update Failed due to security constraints"
    async with http.patch(url, json={"assigned_to": "", "state": "2"}, headers=JSON) as response:
        assert response.status == 200  # clearing a guarded field is not giving it a value
    row = emulator.store.get("incident", created["sys_id"])
    assert (row["assigned_to"], row["state"], row["sys_mod_count"]) == ("", "2", "1")
