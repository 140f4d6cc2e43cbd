"""The access policy file: parsing, refusing bad files with their line, deciding readers."""

from __future__ import annotations

import pytest

from search.access import (
    CLOSED,
    OPEN,
    PolicyError,
    load_policy,
    parse_policy,
    principals_of,
)

POLICY = """\
default: [everyone]
rules:
  - path: hr/                       # line 3
    allow: [group:hr, user:payroll-admin]
  - path: hr/payroll
    allow: [user:payroll-admin]
  - path: "hr/*.pdf"
    allow: [group:hr, group:auditors]
  - path: "**/private"
    allow: []
  - path: board/minutes-2025.md
    allow: [group:board]
"""


def readers(policy, path: str) -> list[str]:
    return sorted(policy.readers(path, {"path": path}))


def test_the_most_specific_rule_decides():
    policy = parse_policy(POLICY)
    # no rule covers it: default
    assert readers(policy, "it/vpn.md") == ["everyone"]
    # "hr" (2 characters) covers it
    assert readers(policy, "hr/leave.md") == ["group:hr", "user:payroll-admin"]
    # "hr/*.pdf" has 7 literal characters (h r / . p d f) > "hr" (2)
    assert readers(policy, "hr/leave.pdf") == ["group:auditors", "group:hr"]
    # "hr/payroll" (10) > "hr/*.pdf" (7): the deeper folder wins over the glob
    assert readers(policy, "hr/payroll/2025.pdf") == ["user:payroll-admin"]
    # "**/private" covers a folder at any depth (literal "/private" = 8 > "hr" = 2)
    assert readers(policy, "hr/private/notes.md") == []
    # a file path is a rule for that file alone
    assert readers(policy, "board/minutes-2025.md") == ["group:board"]
    assert readers(policy, "board/minutes-2024.md") == ["everyone"]


def test_prefixes_are_whole_path_segments():
    policy = parse_policy("default: [everyone]\nrules:\n  - path: hr\n    allow: [group:hr]\n")
    assert readers(policy, "hr/a.md") == ["group:hr"]
    assert readers(policy, "hr") == ["group:hr"]
    assert readers(policy, "hr-public/a.md") == ["everyone"]  # not a segment of "hr"


def test_equally_specific_rules_the_later_wins():
    text = (
        "default: []\nrules:\n"
        '  - path: "a/*.md"\n    allow: [group:x]\n'  # literal a/.md = 5
        '  - path: "a/?.md"\n    allow: [group:y]\n'  # literal a/.md = 5, written later
    )
    assert readers(parse_policy(text), "a/b.md") == ["group:y"]


def test_globs_stay_inside_a_segment_unless_double_star():
    text = 'default: []\nrules:\n  - path: "*.pdf"\n    allow: [everyone]\n'
    policy = parse_policy(text)
    assert readers(policy, "a.pdf") == ["everyone"]
    assert readers(policy, "hr/a.pdf") == []  # * does not cross "/"
    text = 'default: []\nrules:\n  - path: "**/*.pdf"\n    allow: [everyone]\n'
    assert readers(parse_policy(text), "hr/x/a.pdf") == ["everyone"]
    text = 'default: []\nrules:\n  - path: "report-[0-9].md"\n    allow: [everyone]\n'
    policy = parse_policy(text)
    assert readers(policy, "report-7.md") == ["everyone"]
    assert readers(policy, "report-x.md") == []


def test_a_documents_own_allow_list_wins_and_a_broken_one_closes_it():
    policy = parse_policy("default: [everyone]\n")
    assert sorted(policy.readers("d1", {"path": "d1", "allow": ["group:legal"]})) == ["group:legal"]
    assert policy.readers("d2", {"path": "d2", "allow": ["legal team"]}) == frozenset()
    assert policy.readers("d3", {"path": "d3", "allow": "group:legal"}) == frozenset()


def test_case_sensitive_false_matches_paths_whatever_their_case():
    text = (
        "default: [everyone]\ncase_sensitive: false\nrules:\n  - path: hr/\n    allow: [group:hr]\n"
        '  - path: "**/Private"\n    allow: []\n'
    )
    policy = parse_policy(text)
    assert policy.case_sensitive is False
    assert readers(policy, "HR/upper.txt") == readers(policy, "hr/a.md") == ["group:hr"]
    assert readers(policy, "it/PRIVATE/x.md") == []  # globs too
    assert readers(policy, "hr-public/a.md") == ["everyone"]  # still whole segments
    sensitive = parse_policy(text.replace("case_sensitive: false", "case_sensitive: true"))
    assert readers(sensitive, "HR/upper.txt") == ["everyone"]
    # what it means changed, so its hash did; left unsaid, it is decided by the folder later
    assert policy.hash != sensitive.hash
    assert parse_policy(text.replace("case_sensitive: false\n", "")).case_sensitive is None
    assert parse_policy(text.replace("case_sensitive: false\n", "")).hash == sensitive.hash


def test_a_file_with_several_names_is_read_by_those_every_name_allows():
    policy = parse_policy(POLICY)
    hard_link = {"path": "hr/leave.md", "aliases": ["it/leave.md"]}
    # hr/ lets hr and the payroll admin read; it/ lets everyone: hr's rule decides
    assert sorted(policy.readers("hr/leave.md", hard_link)) == ["group:hr", "user:payroll-admin"]
    both = {"path": "hr/payroll/x.md", "aliases": ["board/minutes-2025.md"]}
    # [user:payroll-admin] and [group:board] share nobody: nobody reads it
    assert policy.readers("hr/payroll/x.md", both) == frozenset()
    assert policy.readers("d", {"path": "d", "aliases": "it/x.md"}) == frozenset()  # malformed
    # the name it is indexed under: the one whose rule lets the fewest read it
    assert policy.strictest(["it/leave.md", "hr/leave.md"]) == "hr/leave.md"
    assert policy.strictest(["hr/leave.md", "hr/payroll/leave.md"]) == "hr/payroll/leave.md"
    assert policy.strictest(["b.md", "a.md"]) == "a.md"  # equally open: path order


def test_may_read_is_a_meeting_of_principals():
    policy = parse_policy(POLICY)
    ann = principals_of("ann", ["hr"])
    bob = principals_of("bob", [])
    assert ann == {"everyone", "user:ann", "group:hr"}
    assert policy.may_read(ann, "hr/leave.md", {"path": "hr/leave.md"})
    assert not policy.may_read(bob, "hr/leave.md", {"path": "hr/leave.md"})
    assert policy.may_read(bob, "it/vpn.md", {"path": "it/vpn.md"})


def test_the_hash_follows_meaning_not_layout():
    a = parse_policy(POLICY)
    b = parse_policy(
        POLICY.replace("# line 3", "").replace(
            "[group:hr, user:payroll-admin]", "[user:payroll-admin, group:hr]"
        )
    )
    c = parse_policy(POLICY.replace("group:board", "group:directors"))
    assert a.hash == b.hash
    assert a.hash != c.hash
    assert len(a.hash) == 16
    assert OPEN.hash != CLOSED.hash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty; write at least `default: [everyone]`"),
        ("rules: []\n", "line 1: no `default:`; write `default: [everyone]`"),
        ("default: everyone\n", "line 1: `default` must be a list"),
        (
            "default: [evryone]\n",
            "line 1: in `default`: 'evryone' is not a principal; write everyone, user:NAME or group:NAME",
        ),
        (
            "default: [everyone]\nrule: []\n",
            "line 2: unknown key 'rule' in the policy; use case_sensitive, default, rules",
        ),
        ("default: [everyone]\nrules:\n  - path: hr/\n", "line 3: a rule needs `allow:`"),
        (
            "default: [everyone]\nrules:\n  - path: hr/\n    allow: [group: hr]\n",
            "line 4: each entry of `allow` must be text",
        ),
        (
            "default: [everyone]\nrules:\n  - path: hr/\n    allow: [grup:hr]\n",
            "line 4: in `allow`: 'grup:hr' is not a principal",
        ),
        (
            "default: [everyone]\nrules:\n  - path: ../etc\n    allow: []\n",
            "line 3: '../etc' steps out with '..'",
        ),
        ("default: [everyone]\nrules:\n  - path: *.pdf\n    allow: []\n", "line 3: not valid YAML"),
        (
            "default: [everyone]\nrules:\n  - path: a\n    allow: []\n  - path: a/\n    allow: []\n",
            "line 5: 'a' already has a rule on line 3; merge them",
        ),
        (
            'default: [everyone]\nrules:\n  - path: "[ab"\n    allow: []\n',
            "line 3: '[ab' is not a valid glob",
        ),
        (
            "default: [everyone]\nrules:\n  - path: 2024\n    allow: []\n",
            "line 3: `path` must be text (quote it)",
        ),
        ("default: [everyone\n", "not valid YAML"),
    ],
)
def test_a_malformed_policy_is_refused_with_its_line_and_the_fix(text, message):
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "docs/access.yaml")
    assert str(err.value).startswith("docs/access.yaml")
    assert message in str(err.value)


def test_a_bare_glob_gets_the_quoting_hint():
    with pytest.raises(PolicyError, match="quote globs"):
        parse_policy("default: [everyone]\nrules:\n  - path: *.pdf\n    allow: []\n")


def test_load_policy_names_the_file(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text(POLICY)
    assert load_policy(path).source == str(path)
    path.write_bytes(b"default: [\xff]\n")
    with pytest.raises(PolicyError, match=f"{path}: not UTF-8"):
        load_policy(path)
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "missing.yaml")
