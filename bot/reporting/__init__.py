"""Reports, metrics and the dashboard: read-only views of what the bridge did.

- :mod:`bot.reporting.rotation`  the rotation report (pure) and its md/csv/json renderers
- :mod:`bot.reporting.queries`   the database reads behind it
- :mod:`bot.reporting.cli`       ``golive report rotation``
- :mod:`bot.reporting.posting`   the end-of-rotation card posted into the management channel
- :mod:`bot.reporting.metrics`   ``GET /metrics`` (Prometheus, one registry per app)
- :mod:`bot.reporting.dashboard` ``GET /dashboard`` (server-rendered, works as a Teams static tab)
"""
