"""The feedback store: what people searched, saw, clicked and voted on, and the labels it gives.

``schema`` holds the tables, ``store`` writes and reads them, ``acceptance`` decides which
clicks and votes are accepted (only on results the server showed to that person),
``labels`` is the one label policy (what a click, a vote or a skip says about a document, and
how much evidence a choice needs), ``personal`` what of the query log each person may see,
``logged_search`` the one logging path.
"""

from lifecycle.feedback.acceptance import CLICK_KINDS, FeedbackRejected
from lifecycle.feedback.labels import (
    GRADE_CLICKED,
    GRADE_NEGATIVE,
    GRADE_UPVOTED,
    MIN_CHOOSERS,
    Click,
    Evidence,
    Impression,
    LabelEvidence,
    Labels,
    Shown,
    Verdict,
    Vote,
    labels_from,
    query_key,
    verdicts,
    votes_in_force,
)
from lifecycle.feedback.logged_search import (
    log_search,
    search_and_log,
    search_and_log_forgiving,
    served_results,
)
from lifecycle.feedback.personal import AdminOnly, QueryRecord
from lifecycle.feedback.store import FeedbackStore

__all__ = [
    "AdminOnly",
    "CLICK_KINDS",
    "Click",
    "Evidence",
    "FeedbackRejected",
    "FeedbackStore",
    "GRADE_CLICKED",
    "GRADE_NEGATIVE",
    "GRADE_UPVOTED",
    "Impression",
    "LabelEvidence",
    "Labels",
    "MIN_CHOOSERS",
    "QueryRecord",
    "Shown",
    "Verdict",
    "Vote",
    "labels_from",
    "query_key",
    "verdicts",
    "votes_in_force",
    "log_search",
    "search_and_log",
    "search_and_log_forgiving",
    "served_results",
]
