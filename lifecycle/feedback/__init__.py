"""The feedback store: what people searched, saw, clicked and voted on, and the labels it gives.

``schema`` holds the tables, ``store`` writes and reads them, ``labels`` is the one label policy
(what a click, a vote or a skip says about a document), ``logged_search`` the one logging path.
"""

from lifecycle.feedback.labels import (
    GRADE_CLICKED,
    GRADE_NEGATIVE,
    GRADE_UPVOTED,
    Click,
    Impression,
    LabelEvidence,
    Labels,
    Shown,
    Verdict,
    Vote,
    labels_from,
    query_key,
    record_impression,
    verdicts,
    votes_in_force,
)
from lifecycle.feedback.logged_search import search_and_log
from lifecycle.feedback.store import FeedbackStore

__all__ = [
    "Click",
    "FeedbackStore",
    "GRADE_CLICKED",
    "GRADE_NEGATIVE",
    "GRADE_UPVOTED",
    "Impression",
    "LabelEvidence",
    "Labels",
    "Shown",
    "Verdict",
    "Vote",
    "labels_from",
    "query_key",
    "record_impression",
    "verdicts",
    "votes_in_force",
    "search_and_log",
]
