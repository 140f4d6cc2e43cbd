"""``docsearch experiments list|show|stop|decide``: online experiments and canaries."""

from __future__ import annotations

import getpass
import json

from app.cli.output import print_json
from search.settings import Settings


def _print(rows, as_json: bool) -> None:
    if as_json:
        print_json(rows, default=str)
        return
    if not rows:
        print("No experiments yet.")
    for row in rows if isinstance(rows, list) else [rows]:
        head = f"#{row['id']} {row['kind']} {row['state']}"
        if row["kind"] == "canary":
            print(f"{head}: {row['new_champion']} after {row['previous_champion']}, "
                  f"share {row['share']:g}, queries {row['queries']}")  # fmt: skip
            print(f"    signals: {json.dumps(row['signals'], default=str)}")
        else:
            print(
                f"{head}: {row['challenger']} against {row['champion']}, share {row['share']:g}, "
                f"{row['interleaved_queries']} interleaved, {row['ties']} ties, "
                f"{row['evidence_wins']} won / {row['evidence_losses']} lost "
                f"(test: {row['evidence_state']})"
            )
        if row.get("reason"):
            print(f"    {row['reason']}")


def cmd_list(args, settings: Settings) -> int:
    from lifecycle.experiments.overview import overview

    _print(overview(settings), args.json)
    return 0


def cmd_show(args, settings: Settings) -> int:
    from lifecycle.experiments.overview import show

    _print(show(settings, args.id), args.json)
    return 0


def cmd_stop(args, settings: Settings) -> int:
    from lifecycle.experiments.overview import stop

    _print(stop(settings, args.id, args.by or getpass.getuser()), args.json)
    return 0


def cmd_decide(args, settings: Settings) -> int:
    from lifecycle.experiments.overview import judge_running

    _print(judge_running(settings), args.json)
    return 0


def add_commands(sub, settings: Settings) -> None:
    p = sub.add_parser("experiments", help="online experiments and canaries: list, show, stop")
    commands = p.add_subparsers(dest="experiments_command", required=True, metavar="ACTION")
    for name, func, help_ in (
        ("list", cmd_list, "every experiment, newest first, with its evidence"),
        ("show", cmd_show, "one experiment's state, counts and evidence"),
        ("stop", cmd_stop, "end a running experiment (nothing is promoted or rolled back)"),
        ("decide", cmd_decide, "judge running experiments now and act on a decision"),
    ):
        c = commands.add_parser(name, help=help_)
        if name in ("show", "stop"):
            c.add_argument("id", type=int)
        if name == "stop":
            c.add_argument("--by", help="who stops it (default: the login name)")
        c.add_argument("--json", action="store_true")
        c.set_defaults(func=func)
