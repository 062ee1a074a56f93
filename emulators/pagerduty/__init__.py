"""A local PagerDuty account for development and tests: REST API v2 on-calls, schedules, users.

Public surface::

    PagerDutyEmulatorConfig(...), PagerDutyUser, PagerDutySchedule, ScheduleLayer,
    EscalationPolicy, OnCallEntry                        # emulators.pagerduty.config
    create_pagerduty_emulator(config) -> web.Application
    await run_pagerduty_emulator(host, port, config)     # serves until cancelled
    main(argv) -> int                                    # python -m emulators.pagerduty
"""

from emulators.pagerduty.app import create_pagerduty_emulator, main, run_pagerduty_emulator
from emulators.pagerduty.config import (
    DEFAULT_TOKEN,
    EscalationPolicy,
    OnCallEntry,
    PagerDutyEmulatorConfig,
    PagerDutySchedule,
    PagerDutyUser,
    ScheduleLayer,
    sample_escalation_policies,
    sample_schedules,
    sample_users,
)

__all__ = [
    "DEFAULT_TOKEN",
    "EscalationPolicy",
    "OnCallEntry",
    "PagerDutyEmulatorConfig",
    "PagerDutySchedule",
    "PagerDutyUser",
    "ScheduleLayer",
    "create_pagerduty_emulator",
    "main",
    "run_pagerduty_emulator",
    "sample_escalation_policies",
    "sample_schedules",
    "sample_users",
]
