"""The poster's e-mail comes from the Bot Connector's member lookup, which sits before every
incident's creation: TeamsChat remembers it, so a poster's next inquiries skip the round trip."""

from __future__ import annotations

from typing import Any

from bot.ports import Person, ThreadRef
from bot.teams.places import TeamsPlace
from bot.teams.platform import TeamsChat

THREAD = ThreadRef("teams", "19:go-live@thread.tacv2", "1651590000100")
PAT = Person("29:pat", "Pat Frontdesk", "a1b2c3d4-0000-4000-8000-000000000001", platform="teams")
SAM = Person("29:sam", "Sam Clerk", "a1b2c3d4-0000-4000-8000-000000000002", platform="teams")


class CountingMessenger:
    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def get_member(
        self, service_url: str, conversation_id: str, member_id: str
    ) -> dict[str, Any] | None:
        self.lookups.append(member_id)
        if member_id == PAT.aad_object_id:
            return {
                "email": "pat.frontdesk@example.va.gov",
                "userPrincipalName": "pat.frontdesk@example.va.gov",
            }
        return None


class OnePlace:
    async def require(self) -> TeamsPlace:
        return TeamsPlace("https://smba.example/", "tenant", "19:team@thread.tacv2", "group", "28:bot", "Bot")


def teams_chat(messenger: CountingMessenger) -> TeamsChat:
    return TeamsChat(messenger, OnePlace())  # type: ignore[arg-type]


async def test_a_posters_contact_is_looked_up_once_for_many_inquiries():
    messenger = CountingMessenger()
    chat = teams_chat(messenger)
    contacts = [await chat.person_contact(THREAD, PAT) for _ in range(5)]
    assert {contact.email for contact in contacts if contact} == {"pat.frontdesk@example.va.gov"}
    assert messenger.lookups == [PAT.aad_object_id]


async def test_a_member_teams_does_not_know_is_asked_again_next_time():
    messenger = CountingMessenger()
    chat = teams_chat(messenger)
    assert await chat.person_contact(THREAD, SAM) is None
    assert await chat.person_contact(THREAD, SAM) is None
    assert messenger.lookups == [SAM.aad_object_id, SAM.aad_object_id]
