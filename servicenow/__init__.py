"""ServiceNow side of the Go Live Bridge. Never imports ``bot`` or ``schedule``.

- :mod:`servicenow.gateway`    async gateway over pysnow (``ServiceNowGateway``, ``ServiceNowConfig``)
- :mod:`servicenow.model`      value objects (``IncidentDraft``, ``IncidentRecord``, ``JournalEntry``)
- :mod:`servicenow.errors`     the error tree
- :mod:`servicenow.query`      safe encoded-query building
- :mod:`servicenow.routing`    assignment-group suggestions and triage categories
- :mod:`servicenow.changefeed` incident diffs and unseen public comments
- :mod:`servicenow.callback`   signed business-rule callback verification
- :mod:`emulators.servicenow`   the Table API emulator and queue page
"""
