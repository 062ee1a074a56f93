"""The Slack adapter: the DSVA channels as a second front door to the same incidents.

``edge`` (``POST /slack/events``: signature, typed model, stored before the answer), ``events`` (the
model), ``router`` (stored requests -> the ports' events -> ``bot.bridge``), ``platform``
(``SlackChat``, the chat platform port), ``blocks`` (views as Block Kit), ``text`` (Slack markup),
``api`` (the Web API client: pacing, error classification), ``workspace`` (people and channels,
cached), ``signature`` (v0 request signing). Only this package imports slack_sdk.
"""
