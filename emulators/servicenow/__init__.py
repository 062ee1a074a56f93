"""A local ServiceNow instance for development and tests: Table API, fault injection, queue page.

Public surface::

    EmulatorConfig(...)                                   # emulators.servicenow.config
    create_servicenow_emulator(config) -> web.Application
    await run_servicenow_emulator(host, port, config)     # serves until cancelled
    main(argv) -> int                                     # what `golive emulate servicenow` calls
"""

from emulators.servicenow.app import create_servicenow_emulator, main, parse_args, run_servicenow_emulator
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER, EmulatorConfig
from emulators.servicenow.faults import FaultState

__all__ = [
    "INTEGRATION_PASSWORD",
    "INTEGRATION_USER",
    "EmulatorConfig",
    "FaultState",
    "create_servicenow_emulator",
    "main",
    "parse_args",
    "run_servicenow_emulator",
]
