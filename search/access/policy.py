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
gave them). A malformed file raises ``PolicyError`` naming the file, the line and the fix; it
never yields a policy, so a typo can never open documents.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from search.access.principals import EVERYONE, principal_problem
from search.access.rules import Rule, most_specific, normalise_path, path_problem

POLICY_FILE = "access.yaml"  # at the root of the documents folder unless DOCSEARCH_ACCESS says
DOCUMENT_ALLOW = "allow"  # a document's own readers, in its metadata (BEIR records)
SOURCE, SOURCE_PATH = "source", "source_path"  # a connected source's document: metadata keys
MAX_POLICY_BYTES = 1024 * 1024
MAX_NODES = 100_000


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Policy:
    """Readers per document: ``default`` unless a rule or the document's own list says."""

    default: frozenset[str]
    rules: tuple[Rule, ...] = ()
    source: str = ""  # the file it was read from, for messages
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        canonical = {
            "default": sorted(self.default),
            "rules": [
                {"path": r.path, "allow": sorted(r.allow)}
                | ({"source": r.source} if r.source else {})
                for r in self.rules
            ],
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
        # comments, layout and order inside a list do not change what the policy means
        object.__setattr__(self, "digest", hashlib.sha256(text.encode()).hexdigest()[:16])

    @property
    def hash(self) -> str:
        """What an index version records as the policy it enforces."""
        return self.digest

    def readers(self, doc_id: str, metadata: Mapping) -> frozenset[str]:
        """The principals that may read one document."""
        own = metadata.get(DOCUMENT_ALLOW)
        if own is not None:
            return document_readers(own)
        source = str(metadata.get(SOURCE, ""))
        path = metadata.get(SOURCE_PATH) if source else metadata.get("path", doc_id)
        rule = most_specific(self.rules, str(path), source)
        return rule.allow if rule is not None else self.default

    def readers_of(self, documents: Mapping[str, Mapping]) -> dict[str, frozenset[str]]:
        """``{doc_id: readers}`` for an index's ``documents`` (``{doc_id: {"metadata"}}``)."""
        return {d: self.readers(d, info.get("metadata", {})) for d, info in documents.items()}

    def may_read(self, principals: frozenset[str], doc_id: str, metadata: Mapping) -> bool:
        return not principals.isdisjoint(self.readers(doc_id, metadata))


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
    top = reader.mapping(root, "the policy", {"default", "rules"})
    if "default" not in top:
        _fail(
            source,
            root.start_mark.line + 1,
            "no `default:`; write `default: [everyone]` (documents no rule covers are open "
            "to all) or `default: []` (closed to all)",
        )
    default = reader.principals(top["default"][1], "default")
    rules = reader.rules(top["rules"][1]) if "rules" in top else ()
    return Policy(default=default, rules=rules, source=source)


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
