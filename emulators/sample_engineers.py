"""The sandbox's roster engineers as plain data, for the emulators' default sample accounts.

A copy of the six engineers of ``schedule.sample.sample_roster()`` (names, emails, time zones):
emulators import nothing of the product, so the values are repeated here and a test keeps the two
lists equal. The sandbox passes its own data; these defaults serve ``golive emulate ...`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SAMPLE_ENGINEERS", "SampleEngineer"]


@dataclass(frozen=True)
class SampleEngineer:
    key: str
    name: str
    email: str
    time_zone: str

    @property
    def handle(self) -> str:
        """A login-style handle (``jane-doe``) for services that have one (GitHub)."""
        return self.name.lower().replace(" ", "-")


SAMPLE_ENGINEERS: tuple[SampleEngineer, ...] = (
    SampleEngineer("jane", "Jane Doe", "jane.doe@example.va.gov", "America/New_York"),
    SampleEngineer("marcus", "Marcus Lee", "marcus.lee@example.va.gov", "America/Chicago"),
    SampleEngineer("priya", "Priya Shah", "priya.shah@example.va.gov", "America/Denver"),
    SampleEngineer("tom", "Tom Nguyen", "tom.nguyen@example.va.gov", "America/Los_Angeles"),
    SampleEngineer("rosa", "Rosa Martinez", "rosa.martinez@example.va.gov", "America/Phoenix"),
    SampleEngineer("kai", "Kai Akana", "kai.akana@example.va.gov", "Pacific/Honolulu"),
)
