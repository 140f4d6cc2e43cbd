"""``docsearch sources add|list|sync|remove``: the organisation's document stores, connected."""

from __future__ import annotations

import argparse
import json
import os
import sys

from app.cli.output import print_json
from search.settings import Settings


def option_pair(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` (the value may hold further "=")."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE, e.g. endpoint_url=http://...")
    return key.strip(), value


option_pair.__name__ = "KEY=VALUE"


def cmd_add(args, settings: Settings) -> int:
    from lifecycle.access import current_policy
    from lifecycle.sources import add_source
    from lifecycle.sources.coverage import uncovered_sources

    source = add_source(settings, args.name, args.url, dict(args.option or []))
    print(
        f"source {source.name} added ({source.spec.scheme}, {source.url}); "
        f"`docsearch sources sync {source.name}` fetches it"
    )
    for line in uncovered_sources(current_policy(settings).policy, [source.name]):
        print(f"note: {line}")
    return 0


def _row(source) -> dict:
    report = source.report or {}
    return {
        "name": source.name,
        "url": source.url,
        "options": dict(source.options),
        "status": source.status,
        "synced_at": source.synced_at.isoformat() if source.synced_at else None,
        "in_step_at": source.checked_at.isoformat() if source.checked_at else None,
        "last_error": report.get("error", ""),
    }


def cmd_list(args, settings: Settings) -> int:
    from lifecycle.sources import list_sources

    rows = [_row(s) for s in list_sources(settings)]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no sources yet: `docsearch sources add NAME URL [--option KEY=VALUE ...]`")
    for row in rows:
        when = row["synced_at"] or "never synced"
        error = f"\t{row['last_error']}" if row["last_error"] else ""
        print(f"{row['name']}\t{row['url']}\t{row['status']}\t{when}{error}")
    return 0


def cmd_sync(args, settings: Settings) -> int:
    from lifecycle.sources import sync_sources
    from search.progress import ProgressPrinter

    outcome = sync_sources(settings, os.environ, args.name, progress=ProgressPrinter())
    if args.json:
        print_json(outcome.as_dict())
    else:
        print(json.dumps(outcome.as_dict(), indent=2))
    for report in outcome.reports:
        if report.error:
            print(
                f"source {report.source} could not be synced: {report.error}. What serves is "
                "unchanged; the next sync goes on from what was fetched",
                file=sys.stderr,
            )
    return 0 if outcome.ok else 1


def cmd_remove(args, settings: Settings) -> int:
    from lifecycle.sources import remove_source

    remove_source(settings, args.name)
    print(
        f"source {args.name} removed with its mirror; its documents leave the next index "
        "version (`docsearch sources sync` or the Dagster index_job)"
    )
    return 0


def add_commands(sub, settings: Settings) -> None:
    sources = sub.add_parser(
        "sources", help="document stores (S3, SMB, WebDAV, web sites, folders) kept in sync"
    ).add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    p = sources.add_parser(
        "add", help="add a source: the URL's scheme picks the connector (nothing fetched yet)"
    )
    p.add_argument("name", help="lower-case letters, digits, - and _; prefixes document ids")
    p.add_argument(
        "url",
        help="file:///path, s3://bucket/prefix, smb://host/share/path, webdav(s)://host/path, http(s)://host/",
    )
    p.add_argument(
        "--option",
        action="append",
        type=option_pair,
        metavar="KEY=VALUE",
        help="a connector option (repeatable), e.g. endpoint_url=http://127.0.0.1:9000 or "
        "password_env=SMB_PASSWORD (secrets are named, never given)",
    )
    p.set_defaults(func=cmd_add)
    p = sources.add_parser("list", help="sources with the outcome of their last sync")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = sources.add_parser(
        "sync", help="fetch what changed in one source or all, then publish a new index version"
    )
    p.add_argument("name", nargs="?", help="the source (default: every source)")
    p.add_argument("--json", action="store_true", help="print the summary on one line")
    p.set_defaults(func=cmd_sync)
    p = sources.add_parser("remove", help="forget a source; its documents leave the next version")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove)
