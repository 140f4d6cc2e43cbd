"""Who may read which document: principals, the access policy file, its rules."""

from search.access.folder import names_are_case_sensitive, policy_file_of
from search.access.policy import (
    CLOSED,
    DOCUMENT_ALIASES,
    DOCUMENT_ALLOW,
    OPEN,
    POLICY_FILE,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
    policy_from_dict,
)
from search.access.principals import EVERYONE, principal_problem, principals_of
from search.access.rules import Rule

__all__ = [
    "CLOSED",
    "DOCUMENT_ALIASES",
    "DOCUMENT_ALLOW",
    "EVERYONE",
    "OPEN",
    "POLICY_FILE",
    "Policy",
    "PolicyError",
    "Rule",
    "load_policy",
    "names_are_case_sensitive",
    "parse_policy",
    "policy_file_of",
    "policy_from_dict",
    "principal_problem",
    "principals_of",
]
