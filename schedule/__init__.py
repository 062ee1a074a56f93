"""The go-live plan and the duty roster: pure domain code, no I/O, time always passed in.

Modules
    ``plan``        sites, rollout weeks, go-live windows (local-time arithmetic across DST)
    ``edits``       delivery-manager edits (add a week or a site, move, pull) and the older plan diff
    ``changes``     merge or replace the plan with an imported file; ``plan_changes`` and its lines
    ``impact``      what a proposed plan does to the channels (via the reconciler); open sites pulled
    ``week_addition`` the add-week form checked in one pass, every problem at once
    ``csvio``       rollout CSV import/export (the public format of docs/CONTRACTS.md section 6)
    ``preview``     the channel actions a plan implies in ``[start, end)``; the Preview JSON
    ``reconciler``  (plan, channel states, now) -> channel actions, idempotent
    ``roster``      engineers, weekly pairs, fallback days, swaps, observers; who is on duty, who picks up
    ``first_response`` when the first-response clock starts; whom an escalation may @mention
    ``identity``    the rules for engineers' identifiers (ServiceNow user, email, Entra id, GitHub, Slack)
    ``roster_csv``  roster CSV import/export (docs/ROSTER_CSV.md)
    ``sample``      the original 2022 rollout and a sample roster
    ``localtime``   the one place that turns a local day and hour into an instant
    ``errors``      the error tree (``ScheduleError`` and below)

This package never imports ``bot`` or ``servicenow`` and never reads the clock.
"""
