"""Who may read which document: principals, the access policy file, its rules."""

from search.access.policy import (
    CLOSED,
    DOCUMENT_ALLOW,
    OPEN,
    POLICY_FILE,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
)
from search.access.principals import EVERYONE, principal_problem, principals_of
from search.access.rules import Rule

__all__ = [
    "CLOSED",
    "DOCUMENT_ALLOW",
    "EVERYONE",
    "OPEN",
    "POLICY_FILE",
    "Policy",
    "PolicyError",
    "Rule",
    "load_policy",
    "parse_policy",
    "principal_problem",
    "principals_of",
]
