"""``docsearch users`` and ``tokens``: thin commands over ``lifecycle.identity.Identities``."""

from app.cli import main
from lifecycle.identity import Identities
from search.settings import Settings


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_and_tokens_from_the_command_line(home, capsys, monkeypatch):
    monkeypatch.delenv("DOCSEARCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DOCSEARCH_FEEDBACK_URL", raising=False)
    code, out, _ = _run(capsys, "users", "add", "alice", "--groups", "hr, finance", "--admin")
    assert code == 0
    token = out.strip().splitlines()[-1]  # the token is the last line
    identities = Identities(Settings.from_env().database_url)
    alice = identities.authenticate(token)
    assert (alice.name, alice.groups, alice.admin) == ("alice", {"hr", "finance"}, True)

    code, out, _ = _run(capsys, "users", "add", "bob")
    bob_token = out.strip().splitlines()[-1]
    code, out, _ = _run(capsys, "users", "list")
    assert out.splitlines() == ["alice\tgroups: finance,hr\tadmin", "bob\tgroups: -\tuser"]

    code, out, _ = _run(capsys, "tokens", "issue", "bob")
    second = out.strip().splitlines()[-1]
    assert identities.authenticate(second).name == "bob"
    code, out, _ = _run(capsys, "tokens", "revoke", "bob")
    assert code == 0 and out.strip() == "2 tokens of bob revoked"
    assert identities.authenticate(bob_token) is None and identities.authenticate(second) is None

    code, out, _ = _run(capsys, "users", "remove", "alice")
    assert code == 0 and identities.authenticate(token) is None

    # mistakes are one line on stderr and exit code 2
    for args, message in (
        (("users", "add", "bob"), "error: user 'bob' exists already"),
        (("users", "remove", "zed"), "error: there is no user 'zed'"),
        (("users", "add", "x y"), "error: user name 'x y' is not allowed"),
    ):
        code, out, err = _run(capsys, *args)
        assert code == 2 and err.startswith(message) and len(err.strip().splitlines()) == 1
    identities.close()


def test_migrate_reports_the_revision(home, capsys, monkeypatch):
    from lifecycle.migrations import head

    monkeypatch.delenv("DOCSEARCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DOCSEARCH_FEEDBACK_URL", raising=False)
    code, out, _ = _run(capsys, "migrate")
    assert code == 0 and out.strip().endswith(f"upgraded from revision none to {head()}")
    code, out, _ = _run(capsys, "migrate")
    assert out.strip().endswith(f"is up to date (revision {head()})")


def test_the_token_printed_is_kept_for_as_user_and_forgotten_with_it(home, capsys, monkeypatch):
    import stat

    from app.cli.saved_tokens import saved_token, token_file

    monkeypatch.delenv("DOCSEARCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DOCSEARCH_FEEDBACK_URL", raising=False)
    settings = Settings.from_env()
    _, out, _ = _run(capsys, "users", "add", "..")  # a legal name that is no file name
    kept = token_file(settings, "..")
    assert saved_token(settings, "..") == out.strip().splitlines()[-1]
    assert kept.parent == settings.home / "tokens" and kept.name == "user-.."
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # this account only
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    _, out, _ = _run(capsys, "tokens", "issue", "..")
    assert saved_token(settings, "..") == out.strip().splitlines()[-1]  # the newest is kept
    _run(capsys, "tokens", "revoke", "..")
    assert saved_token(settings, "..") is None and not kept.exists()
    _run(capsys, "tokens", "issue", "..")
    _run(capsys, "users", "remove", "..")
    assert not kept.exists()
