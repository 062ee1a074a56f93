"""A local ServiceNow instance for development and tests: Table API, Batch API, fault injection,
queue page. Answers pysnow (the product's client) and pysnc (ServiceNow's own Python client).

Public surface::

    EmulatorConfig(...)                                   # emulators.servicenow.config
    ServiceNowPerson(user_name, name, email, role)        # a sys_user to seed (EmulatorConfig.people)
    create_servicenow_emulator(config) -> web.Application
    await run_servicenow_emulator(host, port, config)     # serves until cancelled
    main(argv) -> int                                     # what `golive emulate servicenow` calls
"""

from emulators.servicenow.app import create_servicenow_emulator, main, parse_args, run_servicenow_emulator
from emulators.servicenow.config import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    ServiceNowPerson,
    person_from,
)
from emulators.servicenow.faults import FaultState

__all__ = [
    "INTEGRATION_PASSWORD",
    "INTEGRATION_USER",
    "EmulatorConfig",
    "FaultState",
    "ServiceNowPerson",
    "create_servicenow_emulator",
    "main",
    "parse_args",
    "person_from",
    "run_servicenow_emulator",
]
