"""``docsearch api`` (the REST API alone) and ``docsearch access check|apply`` (the policy)."""

from __future__ import annotations

import sys

from app.cli.arguments import bounded_int, existing_dir
from search.settings import Settings


def cmd_api(args, settings: Settings) -> int:
    from app.api import create_app
    from app.api.server import serve

    print(f"docsearch API on http://{args.host}:{args.port} (docs: /docs)", flush=True)
    serve(create_app(settings), args.host, args.port)
    return 0


def cmd_access_check(args, settings: Settings) -> int:
    from lifecycle.access import current_policy, serving_record

    status = current_policy(settings, args.docs)
    print(f"documents folder: {status.docs}")
    print(f"policy file: {status.file}{'' if status.file.exists() else ' (there is none)'}")
    print(f"in force: {status.policy.source} (hash {status.hash})")
    served = serving_record(settings)
    if served:
        print(served)
    unknown = _source_coverage(settings, status.policy)
    if status.error:
        print(f"error: {status.error}", file=sys.stderr)
        return 1
    return 1 if unknown else 0


def _source_coverage(settings: Settings, policy) -> list[str]:
    """Print which connected sources the rules miss and which rules name no connected source
    (a typo there leaves a source's documents to the default); the latter lines."""
    from lifecycle.sources import list_sources
    from lifecycle.sources.coverage import uncovered_sources, unknown_sources

    connected = [source.name for source in list_sources(settings)]
    for line in uncovered_sources(policy, connected):
        print(f"note: {line}")
    unknown = unknown_sources(policy, connected)
    for line in unknown:
        print(f"warning: {line}", file=sys.stderr)
    return unknown


def cmd_access_apply(args, settings: Settings) -> int:
    from lifecycle.access import apply_policy

    applied = apply_policy(settings)
    if applied.status.error:
        print(f"error: {applied.status.error}", file=sys.stderr)
    print(f"policy {applied.status.hash}: {applied.outcome}")
    if applied.version and applied.version != applied.served:
        print(f"index version {applied.version} (from {applied.served}) enforces it")
    return 1 if applied.status.error else 0


def add_commands(sub, settings: Settings) -> None:
    p = sub.add_parser("api", help="serve the REST API (OpenAPI at /openapi.json, docs at /docs)")
    p.add_argument(
        "--port",
        type=bounded_int(1, 65535),
        default=settings.api_port,
        help="port (default: %(default)s, $DOCSEARCH_API_PORT)",
    )
    p.add_argument(
        "--host", default=settings.host, help="address (default: %(default)s, $DOCSEARCH_HOST)"
    )
    p.set_defaults(func=cmd_api)

    access = sub.add_parser("access", help="the access policy: check it, or apply it now")
    actions = access.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "check", help="say which policy is in force for a documents folder, and why not the file's"
    )
    p.add_argument(
        "--docs",
        type=existing_dir,
        default=settings.docs,
        help="the documents folder (default: %(default)s, $DOCSEARCH_DOCS)",
    )
    p.set_defaults(func=cmd_access_check)
    p = actions.add_parser(
        "apply",
        help="make the serving index version enforce the policy in force (a new version, "
        "nothing re-embedded; promoted through the gate, or made CURRENT locally)",
    )
    p.set_defaults(func=cmd_access_apply)
