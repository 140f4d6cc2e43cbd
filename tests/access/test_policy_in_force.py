"""The policy in force: the last good one stays when the file breaks or goes; a version that
records another policy gets a new version beside it, nothing re-embedded; apply_policy
switches what serves."""

from __future__ import annotations

import numpy as np

from lifecycle.access import (
    apply_policy,
    current_policy,
    enforce,
    recorded_hash,
    version_policy,
    with_policy,
)
from search.access import CLOSED, OPEN, parse_policy
from search.settings import Settings
from tests.access.conftest import POLICY

ANN = frozenset({"everyone", "group:hr", "user:ann"})
CLOSED_HR = POLICY.replace("allow: [group:hr]", "allow: []")


def test_no_policy_file_means_everyone_reads_everything(tmp_path):
    (tmp_path / "docs").mkdir()
    status = current_policy(Settings(home=tmp_path / "home", docs=tmp_path / "docs"))
    assert status.policy == OPEN and status.error == ""
    assert status.file == tmp_path / "docs" / "access.yaml"


def test_a_malformed_first_policy_closes_everything(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "access.yaml").write_text("default: [evryone]\n")
    status = current_policy(Settings(home=tmp_path / "home", docs=tmp_path / "docs"))
    assert status.policy == CLOSED
    assert f"{status.file}, line 1: in `default`: 'evryone' is not a principal" in status.error
    assert "No document can be read until it is fixed" in status.error


def test_the_last_good_policy_stays_in_force(own_access_home):
    settings, _, _ = own_access_home
    good = current_policy(settings)  # the build read it: it is the last good one already
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


def test_the_last_good_policy_of_one_folder_never_stands_in_for_another(own_access_home):
    settings, _, _ = own_access_home
    current_policy(settings)  # this folder's last good policy: hr closed to outsiders
    other = settings.docs.parent / "other"
    other.mkdir()
    (other / "access.yaml").write_text("default: [evryone]\n")  # malformed from the start
    status = current_policy(settings, other)
    assert status.policy == CLOSED and status.file == other / "access.yaml"


def test_with_policy_makes_a_version_that_records_it_without_re_embedding(own_access_home):
    settings, store, version = own_access_home
    assert recorded_hash(store.path(version)) == parse_policy(POLICY).hash  # built with it
    assert with_policy(settings, store, version).made is False
    settings.access_policy.write_text(CLOSED_HR)
    made = with_policy(settings, store, version)
    assert made.made and made.version != version
    assert recorded_hash(store.path(made.version)) == parse_policy(CLOSED_HR).hash
    before, after = store.load(version), store.load(made.version)
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]
    # the same vectors: the dense index was carried over, not encoded again
    assert np.array_equal(
        after.dense.index.reconstruct_n(0, 3), before.dense.index.reconstruct_n(0, 3)
    )
    assert store.current() == version  # not made current: the pipeline's gate decides
    again = with_policy(settings, store, made.version)
    assert (again.version, again.made) == (made.version, False)


def test_a_changed_policy_file_applies_at_once(own_access_home):
    settings, store, version = own_access_home
    index = enforce(store.load(version), version_policy(settings, store.load(version)).policy)
    assert index.is_readable("hr/leave.md", ANN)
    settings.access_policy.write_text(CLOSED_HR)
    closed = enforce(index, version_policy(settings, index).policy)
    assert not closed.is_readable("hr/leave.md", ANN)
    assert enforce(closed, version_policy(settings, closed).policy) is closed  # already


def test_apply_policy_serves_a_new_version_locally(own_access_home):
    settings, store, version = own_access_home
    assert apply_policy(settings).outcome == "already enforced"  # the build recorded it
    settings.access_policy.write_text(CLOSED_HR)
    applied = apply_policy(settings)
    assert applied.served == version and applied.version != version
    assert applied.outcome.startswith("made CURRENT in the local store")
    assert store.current() == applied.version
    assert recorded_hash(store.path(applied.version)) == applied.status.hash
    assert apply_policy(settings).outcome == "already enforced"
