"""Users, groups and API tokens in the product's store (SQLite and PostgreSQL)."""

import hashlib

import pytest
from sqlalchemy import select

from lifecycle.identity import Identities, IdentityError, User, tokens, users


@pytest.fixture
def identities(database_url):
    identities = Identities(database_url)
    yield identities
    identities.close()


def test_a_new_user_gets_a_token_that_names_them(identities):
    token = identities.add_user("alice", groups=["hr", "finance"], admin=True)
    alice = identities.authenticate(token)
    assert alice == User("alice", frozenset({"hr", "finance"}), admin=True)
    assert alice.principals() == {"everyone", "user:alice", "group:hr", "group:finance"}
    bob_token = identities.add_user("bob")
    assert identities.authenticate(bob_token).principals() == {"everyone", "user:bob"}
    assert [u.name for u in identities.list_users()] == ["alice", "bob"]
    assert identities.user("bob") == User("bob", frozenset(), admin=False)
    assert identities.user("carol") is None


def test_tokens_are_random_and_stored_only_as_hashes(identities):
    first = identities.add_user("alice")
    second = identities.issue_token("alice")
    assert first != second and len(first) >= 43  # 32 random bytes, base64url: 43 characters
    with identities.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(tokens))]
    assert {r["token_hash"] for r in rows} == {
        hashlib.sha256(t.encode()).hexdigest() for t in (first, second)
    }
    stored = repr(rows)
    assert first not in stored and second not in stored
    assert identities.count_tokens("alice") == 2


def test_revoked_and_unknown_tokens_stop_working_at_once(identities, database_url):
    token = identities.add_user("alice")
    other = identities.issue_token("alice")
    elsewhere = Identities(database_url)  # another process's view of the same store
    assert elsewhere.authenticate(token).name == "alice"
    assert identities.revoke_tokens("alice") == 2
    assert elsewhere.authenticate(token) is None and elsewhere.authenticate(other) is None
    assert identities.revoke_tokens("alice") == 0  # nothing left to revoke
    fresh = identities.issue_token("alice")
    assert elsewhere.authenticate(fresh).name == "alice"
    for junk in ("", "ds_" + "x" * 43, token[:-1], None, 42, "ds_" + "y" * 5000):
        assert elsewhere.authenticate(junk) is None
    elsewhere.close()


def test_removing_a_user_removes_their_groups_and_tokens(identities):
    token = identities.add_user("alice", groups=["hr"])
    identities.add_user("bob", groups=["hr"])
    identities.remove_user("alice")
    assert identities.authenticate(token) is None and identities.user("alice") is None
    assert identities.user("bob").groups == {"hr"}
    # the name is free again, with nothing of the old user left over
    fresh = identities.add_user("alice")
    assert identities.authenticate(fresh) == User("alice", frozenset(), admin=False)
    with identities.engine.connect() as conn:
        assert len(conn.execute(select(tokens)).all()) == 2  # bob's and the new alice's


def test_single_sign_on_upserts_and_the_claim_replaces_the_groups(identities):
    signed = identities.sign_in("dana@example.org", ["sales", "emea"])
    assert signed == User("dana@example.org", frozenset({"sales", "emea"}), admin=False)
    again = identities.sign_in("dana@example.org", ["engineering"])
    assert again.groups == {"engineering"}  # the provider's claim replaced the stored groups
    identities.add_user("erin", groups=["hr"], admin=True)
    assert identities.sign_in("erin", []) == User("erin", frozenset(), admin=True)
    with identities.engine.connect() as conn:
        assert conn.execute(select(users.c.name)).scalars().all().count("dana@example.org") == 1


def test_bad_names_and_unknown_users_are_one_line_errors(identities):
    identities.add_user("alice")
    cases = {
        "exists already": lambda: identities.add_user("alice"),
        "not allowed": lambda: identities.add_user("two words"),
        "a user name is needed": lambda: identities.add_user(""),
        "group name 'a,b'": lambda: identities.add_user("bob", groups=["a,b"]),
        "there is no user 'zed'": lambda: identities.issue_token("zed"),
    }
    for message, call in cases.items():
        with pytest.raises(IdentityError, match=message) as caught:
            call()
        assert "\n" not in str(caught.value)
    for name in ("-rf", "x" * 129, "tab\there", "bell\x07"):
        with pytest.raises(IdentityError):
            identities.add_user(name)
    with pytest.raises(IdentityError, match="no user 'zed'"):
        identities.remove_user("zed")
    with pytest.raises(IdentityError, match="no user 'zed'"):
        identities.revoke_tokens("zed")
    assert [u.name for u in identities.list_users()] == ["alice"]  # nothing half-made
