"""Follow-up trackers: the ``FollowUpTracker`` port over GitHub issues (``github``) and Jira Cloud
(``jira``). Both find an earlier issue by the marker line the use case writes into its body, so a
create whose answer was lost is never repeated.
"""

from __future__ import annotations

from bot.followups.body import carries_marker

__all__ = ["carries_marker"]
