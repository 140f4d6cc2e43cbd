"""``docsearch users add|list|remove``, ``docsearch tokens issue|revoke`` and ``docsearch
migrate``: the people who may use the product, and the store that keeps them."""

from __future__ import annotations

from app.cli.saved_tokens import forget_token, save_token
from search.settings import Settings


def _identities(settings: Settings):
    from lifecycle.identity import Identities

    return Identities(settings.database_url)


def _group_list(value: str) -> list[str]:
    return [g.strip() for g in value.split(",") if g.strip()]


def cmd_users_add(args, settings: Settings) -> int:
    identities = _identities(settings)
    token = identities.add_user(args.name, _group_list(args.groups or ""), admin=args.admin)
    user = identities.user(args.name)
    groups = ", ".join(sorted(user.groups)) or "no groups"
    print(f"user {user.name} added ({groups}{'; admin' if user.admin else ''}).")
    kept = save_token(settings, args.name, token)
    print(
        "Their API token follows (send: Authorization: Bearer ...); it is not shown again. "
        f"`--as-user {args.name}` uses the copy kept in {kept} (this account only)."
    )
    print(token)  # the last line, so scripts can take it with `tail -n 1`
    return 0


def cmd_users_list(args, settings: Settings) -> int:
    users = _identities(settings).list_users()
    if not users:
        print("no users yet: `docsearch users add NAME [--groups G1,G2] [--admin]`")
    for user in users:
        groups = ",".join(sorted(user.groups)) or "-"
        print(f"{user.name}\tgroups: {groups}\t{'admin' if user.admin else 'user'}")
    return 0


def cmd_users_remove(args, settings: Settings) -> int:
    _identities(settings).remove_user(args.name)
    forget_token(settings, args.name)
    print(f"user {args.name} removed; their tokens no longer work")
    return 0


def cmd_tokens_issue(args, settings: Settings) -> int:
    token = _identities(settings).issue_token(args.name)
    kept = save_token(settings, args.name, token)
    print(f"a new API token for {args.name} (kept for `--as-user` in {kept}); not shown again:")
    print(token)
    return 0


def cmd_tokens_revoke(args, settings: Settings) -> int:
    revoked = _identities(settings).revoke_tokens(args.name)
    forget_token(settings, args.name)
    print(f"{revoked} token{'s' if revoked != 1 else ''} of {args.name} revoked")
    return 0


def cmd_migrate(args, settings: Settings) -> int:
    from lifecycle.database import engine_for
    from lifecycle.migrations import current, head, upgrade

    engine = engine_for(settings.database_url)
    before = current(engine)
    upgrade(engine)
    engine.dispose()
    shown = engine.url.render_as_string(hide_password=True)
    if before == head():
        print(f"the store at {shown} is up to date (revision {head()})")
    else:
        print(f"the store at {shown} upgraded from revision {before or 'none'} to {head()}")
    return 0


def add_commands(sub, settings: Settings) -> None:
    users = sub.add_parser("users", help="the people who may use docsearch").add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    p = users.add_parser("add", help="add a user and print their first API token (last line)")
    p.add_argument("name")
    p.add_argument("--groups", help="comma-separated groups, e.g. hr,finance")
    p.add_argument("--admin", action="store_true", help="may see monitoring and all feedback")
    p.set_defaults(func=cmd_users_add)
    p = users.add_parser("list", help="users with their groups")
    p.set_defaults(func=cmd_users_list)
    p = users.add_parser("remove", help="delete a user and their tokens")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_remove)

    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens_command", required=True, metavar="ACTION"
    )
    p = tokens.add_parser("issue", help="print another API token for a user")
    p.add_argument("name")
    p.set_defaults(func=cmd_tokens_issue)
    p = tokens.add_parser("revoke", help="revoke every token of a user, at once")
    p.add_argument("name")
    p.set_defaults(func=cmd_tokens_revoke)

    p = sub.add_parser(
        "migrate", help="bring the product's store to the newest schema (also done on start)"
    )
    p.set_defaults(func=cmd_migrate)
