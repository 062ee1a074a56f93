"""``golive inbox dead-letters | retry | drop``: what was stored but could not be processed.

Exit codes: 0 done, 1 there are dead letters (``dead-letters``, so a check can alert on it), 2 bad
usage (an unknown id).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.bridge.deadletters import DeadLetters, UnknownDeadLetter
from bot.cli import CliError, print_json
from bot.plan_cli import _run, _table
from bot.shared_clock import stored_clock
from bot.storage.store import Store


def _operator() -> str:
    try:
        return f"{getpass.getuser()} (golive inbox)"
    except Exception:  # no user name in this environment
        return "operator (golive inbox)"


def cmd_dead_letters(args: argparse.Namespace) -> int:
    async def work(store: Store):
        return await DeadLetters(store, await stored_clock(store)).list()

    letters = _run(args, work)
    if args.format == "json":
        print_json([letter.as_json() for letter in letters])
    elif not letters:
        print("No dead letters.")
    else:
        rows = [
            [x.id, x.received_at.isoformat(timespec="seconds"), x.source, str(x.attempts), x.error]
            for x in letters
        ]
        print(_table(["id", "received_at", "source", "attempts", "error"], rows))
    return 1 if letters else 0


def cmd_retry(args: argparse.Namespace) -> int:
    if not args.all and not args.id:
        raise CliError("give a dead letter id (activity-N or job-N), or --all")

    async def work(store: Store) -> int:
        letters = DeadLetters(store, await stored_clock(store))
        if args.all:
            return await letters.retry_all(_operator())
        await letters.retry(args.id, _operator())
        return 1

    try:
        count = _run(args, work)
    except UnknownDeadLetter as error:
        raise CliError(error.reason) from None
    print(f"{count} dead letter(s) queued again; a running bot picks them up within seconds.")
    return 0


def cmd_drop(args: argparse.Namespace) -> int:
    async def work(store: Store) -> None:
        await DeadLetters(store, await stored_clock(store)).drop(args.id, _operator())

    try:
        _run(args, work)
    except UnknownDeadLetter as error:
        raise CliError(error.reason) from None
    print(f"{args.id} dropped (audited as inbox.drop).", file=sys.stdout)
    return 0
