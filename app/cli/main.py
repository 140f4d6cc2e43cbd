"""``docsearch``: parse the arguments, read the settings once, run one command.

A bad argument or setting is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from app.cli import (
    api_commands,
    chat_commands,
    deploy_commands,
    experiment_commands,
    feedback_commands,
    index_commands,
    loop_commands,
    registry_commands,
    search_command,
    source_commands,
    users_commands,
)
from app.cli.arguments import OneLineParser
from app.cli.output import only_json_on_stdout
from app.cli.remote import ApiRefused
from search.settings import LIBRARY_ENVIRONMENT, Settings, SettingsError

# deploy_commands after registry_commands: it adds --to to the promote command
COMMAND_GROUPS = (
    index_commands,
    search_command,
    chat_commands,
    feedback_commands,
    registry_commands,
    loop_commands,
    experiment_commands,
    users_commands,
    source_commands,
    api_commands,
    deploy_commands,
)


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    """Every command's arguments; defaults come from ``settings`` (the environment)."""
    parser = OneLineParser(
        prog="docsearch",
        description="Self-hosted document search: build, search, evaluate and improve indexes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_commands(sub, settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    for name, value in LIBRARY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        args = build_parser(settings).parse_args(argv)
    except SystemExit as exc:  # --help, or a refused argument (argparse printed why)
        return int(exc.code or 0)
    try:
        if getattr(args, "json", False):
            with only_json_on_stdout():
                return args.func(args, settings)
        return args.func(args, settings)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ApiRefused as exc:  # the API's own one-line reason (4xx: the request; else: the API)
        print(f"error: {exc}", file=sys.stderr)
        return 2 if 400 <= exc.status < 500 else 1
    except Exception as exc:  # noqa: BLE001 - user-caused failures are one line, bugs re-raise
        if _is_user_error(exc):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


def _is_user_error(exc: Exception) -> bool:
    """Errors whose message tells the user what to fix (a missing folder, a broken index, a
    registry version that does not exist, a full disk), as opposed to bugs, which keep their
    traceback."""
    kinds = [FileNotFoundError, NotADirectoryError, ValueError]
    # an exception of these kinds exists only once its module was imported: importing the
    # index's libraries to check would cost a refusal (an unknown user, say) a second
    for module, name in (("search.index", "IndexLoadError"), ("search.ingest", "DocumentError")):
        if module in sys.modules:
            kinds.append(getattr(sys.modules[module], name))
    from search.diskspace import is_out_of_space  # light: no index library behind it

    return is_out_of_space(exc) or isinstance(exc, tuple(kinds))


if __name__ == "__main__":
    sys.exit(main())
