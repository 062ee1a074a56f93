"""A small rollout with hand-computed report figures (see the comments at each row).

Week of 2022-05-02: 508 Atlanta (go-live Mon), 640 Palo Alto (Tue, no inquiries), 528A7 Bath (Wed);
999 Pulled is pulled and silent. Week of 2022-05-09 has 459 Honolulu (and a pulled 612).
Week of 2022-04-25 has 100 Other, whose inquiry must not leak into the 2022-05-02 report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.storage import tables
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store

WEEK = date(2022, 5, 2)
T0 = datetime(2022, 5, 2, 12, 0, tzinfo=UTC)
SS = "Scheduling Support"
EC = "eCheck-in Vet Facing Apps"

SITES = [
    ("508", "Atlanta", "America/New_York", WEEK, date(2022, 5, 2), False),
    ("640", "Palo Alto", "America/Los_Angeles", WEEK, date(2022, 5, 3), False),
    ("528A7", "Bath", "America/New_York", WEEK, date(2022, 5, 4), False),
    ("999", "Pulled", "America/Chicago", WEEK, date(2022, 5, 5), True),
    ("459", "Honolulu", "Pacific/Honolulu", date(2022, 5, 9), date(2022, 5, 9), False),
    ("612", "Pulled Next", "America/Denver", date(2022, 5, 9), date(2022, 5, 10), True),
    ("100", "Other", "America/Chicago", date(2022, 4, 25), date(2022, 4, 25), False),
]

RETIRED_508 = datetime(2022, 5, 9, 21, 0, tzinfo=UTC)
RETIRED_528A7 = datetime(2022, 5, 11, 21, 0, tzinfo=UTC)
CHANNELS = [
    ("508", "19:508@thread.tacv2", "retired", datetime(2022, 5, 2, 11, 0, tzinfo=UTC), RETIRED_508),
    ("640", "19:640@thread.tacv2", "open", datetime(2022, 5, 3, 14, 0, tzinfo=UTC), None),
    ("528A7", "19:528a7@thread.tacv2", "retired", datetime(2022, 5, 4, 11, 0, tzinfo=UTC), RETIRED_528A7),
    ("100", "19:100@thread.tacv2", "retired", datetime(2022, 4, 25, 12, 0, tzinfo=UTC), None),
]


def _inquiry(
    n,
    station,
    day,
    *,
    fr=None,
    by=None,
    state=1,
    group=SS,
    assigned=None,
    re_routes=0,
    resolved=None,
    incident=True,
    deleted=False,
    posted=None,
):
    posted_at = posted or T0 + timedelta(days=(day or 1) - 1, minutes=n)
    return {
        "id": n,
        "correlation_id": f"teams-{n}",
        "channel_id": f"19:{station.lower()}@thread.tacv2",
        "root_message_id": str(1000 + n),
        "conversation_id": f"19:{station.lower()}@thread.tacv2;messageid={1000 + n}",
        "station": station,
        "site_name": station,
        "author_name": "Pat Frontdesk",
        "text": f"inquiry {n}",
        "posted_at": posted_at,
        "received_at": posted_at,
        "go_live_day": day,
        "late": day is None,
        "sys_id": f"{n:032x}" if incident else None,
        "number": f"INC00{n:05d}" if incident else None,
        "incident_url": f"https://sn.example/incident/{n}" if incident else None,
        "state": state if incident else None,
        "assignment_group": group,
        "assigned_to": assigned,
        "first_response_at": posted_at + timedelta(seconds=fr) if fr is not None else None,
        "first_response_by": by,
        "re_routes": re_routes,
        "resolved_at": resolved,
        "deleted": deleted,
    }


INQUIRIES = [
    # 508 Atlanta (retired 2022-05-09 21:00Z)
    _inquiry(
        1, "508", 1, fr=60, by="Alex Kim", state=6, assigned="alex.kim", resolved=T0 + timedelta(days=1)
    ),
    _inquiry(2, "508", 1, fr=240, by="Alex Kim", state=2, group=EC, assigned="alex.kim", re_routes=1),  # open
    _inquiry(
        3,
        "508",
        2,
        fr=600,
        by="Sam Lee",
        state=6,
        group=EC,
        re_routes=1,  # 2 route events win
        resolved=datetime(2022, 5, 10, 12, 0, tzinfo=UTC),
    ),  # resolved after retirement: open
    _inquiry(4, "508", 3, state=1),  # never answered, open, escalated twice
    _inquiry(5, "508", 1, fr=5, by="Alex Kim", deleted=True),  # deleted post: not counted
    # 528A7 Bath (retired 2022-05-11 21:00Z)
    _inquiry(6, "528A7", 1, fr=300, by="Alex Kim", state=7, resolved=datetime(2022, 5, 5, tzinfo=UTC)),
    _inquiry(
        7,
        "528A7",
        2,
        fr=30,
        by="Sam Lee",
        state=6,
        group=EC,
        re_routes=1,  # counter only
        resolved=datetime(2022, 5, 6, tzinfo=UTC),
    ),
    _inquiry(8, "528A7", None, incident=False, posted=datetime(2022, 5, 12, 15, 0, tzinfo=UTC)),  # late
    _inquiry(9, "528A7", 7, fr=1800, by="Alex Kim", state=3, assigned="sam.lee"),  # on hold: open
    # 100 Other (another week)
    _inquiry(10, "100", 1, fr=10, by="Alex Kim", state=2),
]

ROUTE_EVENTS = [(2, SS, EC), (3, SS, EC), (3, EC, EC), (10, SS, EC)]
ESCALATIONS = [(3, 1, "Sam Lee"), (4, 1, "Sam Lee"), (4, 2, "Delivery lead"), (10, 1, "Sam Lee")]

# Hand-computed from the rows above.
# Answered first responses (s): 60, 240, 600 (508); 300, 30, 1800 (528A7) -> sorted 30 60 240 300 600 1800
EXPECTED = {
    "week": "2022-05-02",
    "sites": 3,
    "inquiries": 8,
    "by_site": [("508", "Atlanta", 4), ("640", "Palo Alto", 0), ("528A7", "Bath", 4)],
    "by_day": [(1, 3), (2, 2), (3, 1), (4, 0), (5, 0), (6, 0), (7, 1)],
    "outside_window": 1,
    "first_response": {
        "answered": 6,
        "unanswered": 2,
        "median_s": 270.0,  # (240 + 300) / 2
        "p90_s": 1800.0,  # rank ceil(0.9 * 6) = 6
        "within_5_min": 4,  # 30, 60, 240, 300 (inclusive)
        "within_5_min_share": 0.5,  # 4 of all 8 inquiries
    },
    "re_routes": 4,  # #2: 1, #3: max(1, 2 events) = 2, #7: counter 1
    "by_group": [(SS, 4), (EC, 3)],  # #1 #4 #6 #9 / #2 #3 #7; #8 has no incident yet
    "pending_incidents": 1,
    "escalations": {"total": 3, "inquiries": 2, "by_level": [(1, 2), (2, 1)]},
    "open_at_retirement": 4,  # #2, #3, #4 (508) and #9 (528A7)
    "open_numbers": ["INC0000002", "INC0000003", "INC0000004", "INC0000009"],
    "still_open": 4,  # #2 #4 #8 #9
    "next_week": ["459"],
}
EXPECTED_SITES = {
    "508": {
        "inquiries": 4,
        "by_day": [2, 1, 1, 0, 0, 0, 0],
        "median_s": 240.0,
        "p90_s": 600.0,
        "within_5_min": 2,
        "re_routes": 3,
        "escalations": 3,
        "open_at_retirement": 3,
        "still_open": 2,
    },
    "640": {
        "inquiries": 0,
        "by_day": [0] * 7,
        "median_s": None,
        "p90_s": None,
        "within_5_min": 0,
        "re_routes": 0,
        "escalations": 0,
        "open_at_retirement": 0,
        "still_open": 0,
    },
    "528A7": {
        "inquiries": 4,
        "by_day": [1, 1, 0, 0, 0, 0, 1],
        "median_s": 300.0,
        "p90_s": 1800.0,
        "within_5_min": 2,
        "re_routes": 1,
        "escalations": 0,
        "open_at_retirement": 1,
        "still_open": 2,
    },
}
EXPECTED_ENGINEERS = {
    # name: (first responses, median, within 5 min, escalations received)
    "Alex Kim": (4, 270.0, 3, 0),  # 60 240 300 1800
    "Sam Lee": (2, 315.0, 1, 2),  # 600 30
    "Delivery lead": (0, None, 0, 1),
}


async def seed(store: Store) -> None:
    now = datetime(2022, 5, 12, tzinfo=UTC)
    async with store.write() as connection:
        for station, name, tz, week, go_live, pulled in SITES:
            await connection.execute(
                tables.sites.insert().values(
                    station=station,
                    name=name,
                    time_zone=tz,
                    week_start=week,
                    go_live_date=go_live,
                    pulled=pulled,
                    updated_at=now,
                )
            )
        for station, channel_id, status, opened, retired in CHANNELS:
            await connection.execute(
                tables.channels.insert().values(
                    station=station,
                    channel_id=channel_id,
                    status=status,
                    opened_at=opened,
                    retired_at=retired,
                )
            )
        for row in INQUIRIES:
            await connection.execute(tables.inquiries.insert().values(**row))
        for inquiry_id, source, target in ROUTE_EVENTS:
            await connection.execute(
                tables.route_events.insert().values(
                    inquiry_id=inquiry_id,
                    at=T0,
                    from_group=source,
                    to_group=target,
                    source="teams",
                    actor="Alex Kim",
                )
            )
        for inquiry_id, level, notified in ESCALATIONS:
            await connection.execute(
                tables.escalations.insert().values(
                    inquiry_id=inquiry_id, level=level, at=T0, notified=notified
                )
            )


async def seeded_database(tmp_path: Path, name: str = "golive.db") -> str:
    """A fresh SQLite database with the fixture; returns its plain URL."""
    url = f"sqlite:///{tmp_path / name}"
    engine = create_engine(url)
    try:
        await migrate(engine)
        await seed(Store(engine))
    finally:
        await engine.dispose()
    return url
