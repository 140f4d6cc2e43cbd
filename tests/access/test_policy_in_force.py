"""The policy in force: the last good one stays when the file breaks or goes; versions that
record it are made without re-embedding; apply_policy switches what serves."""

from __future__ import annotations

import numpy as np

from lifecycle.access import (
    apply_policy,
    current_policy,
    enforce,
    recorded_hash,
    with_policy,
)
from search.access import CLOSED, OPEN, parse_policy
from tests.access.conftest import POLICY


def test_no_policy_file_means_everyone_reads_everything(access_home):
    settings, _, _ = access_home
    settings.access_policy.unlink()
    status = current_policy(settings)
    assert status.policy == OPEN and status.error == ""


def test_a_malformed_first_policy_closes_everything(access_home):
    settings, _, _ = access_home
    settings.access_policy.write_text("default: [evryone]\n")
    status = current_policy(settings)
    assert status.policy == CLOSED
    assert f"{settings.access_policy}, line 1: in `default`: 'evryone' is not a principal" in (
        status.error
    )
    assert "No document can be read until it is fixed" in status.error


def test_the_last_good_policy_stays_in_force(access_home):
    settings, _, _ = access_home
    good = current_policy(settings)
    assert good.error == "" and good.hash == parse_policy(POLICY).hash
    settings.access_policy.write_text(POLICY.replace("group:hr]", "grup:hr]"))
    broken = current_policy(settings)
    assert broken.hash == good.hash  # the last good one, not CLOSED and never OPEN
    assert "line 4: in `allow`: 'grup:hr' is not a principal" in broken.error
    assert f"The last good policy ({good.hash}) stays in force" in broken.error
    settings.access_policy.unlink()
    gone = current_policy(settings)
    assert gone.hash == good.hash and "is gone; the last good policy stays in force" in gone.error
    settings.access_policy.write_text("default: [everyone]\n")
    opened = current_policy(settings)
    assert opened.error == "" and opened.policy.default == {"everyone"}


def test_with_policy_makes_a_version_that_records_it_without_re_embedding(access_home):
    settings, store, version = access_home
    assert recorded_hash(store.path(version)) is None
    made = with_policy(settings, store, version)
    assert made.made and made.version != version
    assert recorded_hash(store.path(made.version)) == parse_policy(POLICY).hash
    before, after = store.load(version), store.load(made.version)
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]
    # the same vectors: the dense index was carried over, not encoded again
    assert np.array_equal(
        after.dense.index.reconstruct_n(0, 3), before.dense.index.reconstruct_n(0, 3)
    )
    assert store.current() == version  # not made current: the pipeline's gate decides
    again = with_policy(settings, store, made.version)
    assert (again.version, again.made) == (made.version, False)


def test_enforce_applies_a_changed_policy_at_once(access_home):
    settings, store, version = access_home
    index = enforce(store.load(version), current_policy(settings).policy)
    ann = frozenset({"everyone", "group:hr", "user:ann"})
    assert index.is_readable("hr/leave.md", ann)
    settings.access_policy.write_text(POLICY.replace("allow: [group:hr]", "allow: []"))
    closed = enforce(index, current_policy(settings).policy)
    assert not closed.is_readable("hr/leave.md", ann)
    assert enforce(closed, current_policy(settings).policy) is closed  # already enforced


def test_apply_policy_serves_a_new_version_locally(access_home):
    settings, store, version = access_home
    applied = apply_policy(settings)
    assert applied.served == version and applied.version != version
    assert applied.outcome.startswith("made CURRENT in the local store")
    assert store.current() == applied.version
    assert recorded_hash(store.path(applied.version)) == applied.status.hash
    assert apply_policy(settings).outcome == "already enforced"
