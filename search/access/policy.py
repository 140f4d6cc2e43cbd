"""The access policy: who may read which document, read from a YAML file.

```yaml
default: [everyone]            # who reads a document that no rule covers
rules:
  - path: hr/                  # a folder (prefix in whole segments), a file, or a glob
    allow: [group:hr, user:payroll-admin]
  - path: "board/**/*.pdf"     # quote globs: a bare * starts a YAML alias
    allow: [group:board]
  - source: hr-share           # a connected source (`docsearch sources`), path inside it
    path: payroll/
    allow: [group:payroll]
```

The most specific rule that covers a document decides (``search.access.rules``); a document
from a BEIR corpus whose record carries ``"metadata": {"allow": [...]}`` is read by exactly
those principals, whatever the rules say (the document's own permissions, as the source system
gave them). A file reached under several names inside the folder (hard links: the walk records
the others as ``"metadata": {"aliases": [...]}``) is read only by those its rule allows under
every one of its names. ``case_sensitive: false`` makes rules match paths whatever their case;
left out, it follows the documents folder's file system (``search.access.folder``). A
malformed file raises ``PolicyError`` naming the file, the line and the fix; it never yields a
policy, so a typo can never open documents.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from search.access.principals import EVERYONE, principal_problem
from search.access.rules import Rule, most_specific, normalise_path, path_problem

POLICY_FILE = "access.yaml"  # at the root of the documents folder unless DOCSEARCH_ACCESS says
DOCUMENT_ALLOW = "allow"  # a document's own readers, in its metadata (BEIR records)
SOURCE, SOURCE_PATH = "source", "source_path"  # a connected source's document: metadata keys
DOCUMENT_ALIASES = "aliases"  # the other names of a file reached under several (hard links)
MAX_POLICY_BYTES = 1024 * 1024
MAX_NODES = 100_000
CASE_SENSITIVE = "case_sensitive"  # true | false; left out: as the folder's file system does
_BOOL_TAG = "tag:yaml.org,2002:bool"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Policy:
    """Readers per document: ``default`` unless a rule or the document's own list says."""

    default: frozenset[str]
    rules: tuple[Rule, ...] = ()
    source: str = ""  # the file it was read from, for messages
    case_sensitive: bool | None = None  # None: as the documents folder's file system does
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        text = json.dumps(self._meaning(), sort_keys=True, separators=(",", ":"))
        # comments, layout and order inside a list do not change what the policy means
        object.__setattr__(self, "digest", hashlib.sha256(text.encode()).hexdigest()[:16])

    def _meaning(self) -> dict:
        meaning = {
            "default": sorted(self.default),
            "rules": [
                {"path": r.path, "allow": sorted(r.allow)}
                | ({"source": r.source} if r.source else {})
                for r in self.rules
            ],
        }
        if self.case_sensitive is False:  # only then: hashes of earlier policies stay as they were
            meaning["case_sensitive"] = False
        return meaning

    @property
    def hash(self) -> str:
        """What an index version records as the policy it enforces."""
        return self.digest

    def to_dict(self) -> dict:
        """The policy as data (what a version records of it); ``policy_from_dict`` reads it."""
        return self._meaning() | {"case_sensitive": self.case_sensitive is not False}

    def with_case(self, case_sensitive: bool) -> Policy:
        """This policy with its case rule decided (when the file left it to the file system)."""
        if self.case_sensitive is not None:
            return self
        return dataclasses.replace(self, case_sensitive=case_sensitive)

    def rule_readers(self, path: str, source: str = "") -> frozenset[str]:
        """Who the rules let read a document at ``path`` (inside the connected ``source``, when
        it comes from one), its own list aside."""
        rule = most_specific(self.rules, path, source, self.case_sensitive is not False)
        return rule.allow if rule is not None else self.default

    def readers(self, doc_id: str, metadata: Mapping) -> frozenset[str]:
        """The principals that may read one document: its own list, else those the rules allow
        under each of its names (a principal every name's rule lists; ``everyone`` in a
        name's list leaves the others to decide)."""
        own = metadata.get(DOCUMENT_ALLOW)
        if own is not None:
            return document_readers(own)
        aliases = metadata.get(DOCUMENT_ALIASES, [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            return frozenset()  # names that cannot be read back close the document
        source = str(metadata.get(SOURCE, ""))
        path = str(metadata.get(SOURCE_PATH) if source else metadata.get("path", doc_id))
        if not aliases:
            return self.rule_readers(path, source)
        return every_name_allows(self.rule_readers(name, source) for name in [path, *aliases])

    def readers_of(self, documents: Mapping[str, Mapping]) -> dict[str, frozenset[str]]:
        """``{doc_id: readers}`` for an index's ``documents`` (``{doc_id: {"metadata"}}``)."""
        return {d: self.readers(d, info.get("metadata", {})) for d, info in documents.items()}

    def may_read(self, principals: frozenset[str], doc_id: str, metadata: Mapping) -> bool:
        return not principals.isdisjoint(self.readers(doc_id, metadata))

    def strictest(self, paths: Sequence[str]) -> str:
        """Of several names of one file, the one whose rule lets the fewest read it (a list
        without ``everyone`` before one with it, then the shorter list, then path order): the
        name a file reached twice is indexed under."""

        def strictness(path: str) -> tuple[bool, int, str]:
            readers = self.rule_readers(path)
            return EVERYONE in readers, len(readers), path

        return min(paths, key=strictness)


def every_name_allows(per_name: Iterable[frozenset[str]]) -> frozenset[str]:
    """The readers of a file that has several names: the principals every name's list holds;
    a list holding ``everyone`` restricts nothing. Conservative: two lists that name the same
    person differently (``group:hr`` and ``user:ann``) give nobody."""
    found: frozenset[str] | None = None
    for readers in per_name:
        if EVERYONE in readers:
            continue
        found = readers if found is None else found & readers
    return frozenset({EVERYONE}) if found is None else found


OPEN = Policy(default=frozenset({EVERYONE}), source="(no policy file: everyone reads everything)")
CLOSED = Policy(default=frozenset(), source="(no usable policy yet: nobody reads anything)")


def document_readers(value: object) -> frozenset[str]:
    """A document's own list of readers; anything but a list of principals reads as nobody
    (a broken permission in the source must close the document, not open it)."""
    if not isinstance(value, list | tuple) or any(principal_problem(p) for p in value):
        return frozenset()
    return frozenset(value)


def load_policy(path: str | Path) -> Policy:
    """The policy in ``path``; PolicyError when it cannot be read or used."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read ({exc.strerror}); check the path") from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(f"{path}: over {MAX_POLICY_BYTES // 1024} KiB; a policy is a few rules")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8; save it as UTF-8") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = POLICY_FILE) -> Policy:
    """Parse and validate a policy; PolicyError names the line and the fix."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = f"{getattr(exc, 'context', '')} {problem}"
        hint = "; quote globs (a bare * starts a YAML alias)" if "alias" in context else ""
        raise PolicyError(f"{source}, line {line}: not valid YAML: {problem}{hint}") from None
    if root is None:
        _fail(source, 1, "the file is empty; write at least `default: [everyone]`")
    reader = _Reader(source)
    top = reader.mapping(root, "the policy", {"default", "rules", CASE_SENSITIVE})
    if "default" not in top:
        _fail(
            source,
            root.start_mark.line + 1,
            "no `default:`; write `default: [everyone]` (documents no rule covers are open "
            "to all) or `default: []` (closed to all)",
        )
    default = reader.principals(top["default"][1], "default")
    rules = reader.rules(top["rules"][1]) if "rules" in top else ()
    case = reader.boolean(top[CASE_SENSITIVE][1], CASE_SENSITIVE) if CASE_SENSITIVE in top else None
    return Policy(default=default, rules=rules, source=source, case_sensitive=case)


def policy_from_dict(data: Mapping, source: str) -> Policy:
    """The policy ``Policy.to_dict`` wrote (validated like a file: JSON is YAML)."""
    return parse_policy(json.dumps(dict(data)), source)


def _fail(source: str, line: int, message: str):
    raise PolicyError(f"{source}, line {line}: {message}")


class _Reader:
    """Walks the YAML nodes, so every complaint can name its line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = 0

    def fail(self, node: yaml.Node, message: str):
        _fail(self.source, node.start_mark.line + 1, message)

    def count(self, node: yaml.Node) -> yaml.Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(node, f"more than {MAX_NODES} values; a policy is a few rules")
        return node

    def mapping(self, node: yaml.Node, what: str, keys: set[str]) -> dict:
        if not isinstance(self.count(node), yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping with the keys {', '.join(sorted(keys))}")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name not in keys:
                self.fail(key, f"unknown key {name!r} in {what}; use {', '.join(sorted(keys))}")
            if name in out:
                self.fail(key, f"{name!r} is written twice in {what}; keep one")
            out[name] = (key, value)
        return out

    def string(self, node: yaml.Node, what: str) -> str:
        if (
            not isinstance(self.count(node), yaml.ScalarNode)
            or node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
        ):
            self.fail(node, f"{what} must be text (quote it)")
        return node.value

    def source_name(self, node: yaml.Node) -> str:
        name = self.string(node, "`source`").strip()
        if not name or "/" in name or ":" in name:
            self.fail(node, "`source` names a connected source (`docsearch sources list`)")
        return name

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if not isinstance(self.count(node), yaml.ScalarNode) or node.tag != _BOOL_TAG:
            self.fail(node, f"`{what}` must be true or false")
        return node.value.lower() in ("true", "yes", "on")

    def principals(self, node: yaml.Node, what: str) -> frozenset[str]:
        if not isinstance(self.count(node), yaml.SequenceNode):
            self.fail(node, f"`{what}` must be a list such as [everyone] or [group:hr, user:ann]")
        out = set()
        for item in node.value:
            value = self.string(item, f"each entry of `{what}`")
            problem = principal_problem(value)
            if problem:
                self.fail(item, f"in `{what}`: {problem}")
            out.add(value)
        return frozenset(out)

    def rules(self, node: yaml.Node) -> tuple[Rule, ...]:
        if not isinstance(self.count(node), yaml.SequenceNode):
            self.fail(node, "`rules` must be a list of `- path: ...` / `allow: [...]` entries")
        rules: list[Rule] = []
        seen: dict[tuple[str, str], int] = {}
        for order, item in enumerate(node.value):
            fields = self.mapping(item, "a rule", {"path", "allow", "source"})
            source = self.source_name(fields["source"][1]) if "source" in fields else ""
            for needed in ("allow",) if source else ("path", "allow"):
                if needed not in fields:
                    self.fail(item, f"a rule needs `{needed}:` (path: hr/, allow: [group:hr])")
            path_node = fields["path"][1] if "path" in fields else item
            raw = self.string(path_node, "`path`") if "path" in fields else ""
            problem = path_problem(raw) if raw or not source else None
            if problem:
                self.fail(path_node, problem)
            path = normalise_path(raw)
            key = (source, path)
            if key in seen:
                shown = f"{path!r} of source {source!r}" if source else repr(path)
                self.fail(path_node, f"{shown} already has a rule on line {seen[key]}; merge them")
            seen[key] = path_node.start_mark.line + 1
            allow = self.principals(fields["allow"][1], "allow")
            rules.append(Rule(path, allow, line=seen[key], order=order, source=source))
        return tuple(rules)
