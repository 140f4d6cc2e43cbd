"""The feedback store: what people searched, saw, clicked and voted on, and the labels it gives."""

from lifecycle.feedback.store import (
    GRADE_CLICKED,
    GRADE_NEGATIVE,
    GRADE_UPVOTED,
    Click,
    FeedbackStore,
    Impression,
    LabelEvidence,
    Labels,
    Shown,
    Vote,
    query_key,
    search_and_log,
)

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
    "Vote",
    "query_key",
    "search_and_log",
]
