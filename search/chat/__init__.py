"""Answers to questions from retrieved passages, with numbered citations.

- ``questions``: whether a message refers back to the conversation (only then is it rewritten
  with the previous turn's terms before retrieval) and the parts of a multi-part question;
- ``sentences``: whole sentences of a document (pysbd), with offsets into it;
- ``extractive``: the default answer, quoted sentences chosen by their match with the
  question, or "The documents do not say ..." when the evidence says they do not answer it;
- ``evidence``: that evidence and the model, fitted on labeled data, that weighs it;
- ``llm``: the optional answer written by an OpenAI-compatible endpoint from the same passages;
- ``turn``: one answer from one retrieval, as the chat service and the chat benchmark run it,
  and the warm-up that embeds the sentences answers quote before the first question;
- ``vectors``: those sentences' vectors, in memory and in the home's embedding cache.
"""

from search.chat.answer import EXTRACTIVE, GENERATIVE, Answer, Passage, passages_for
from search.chat.evidence import Evidence, declines
from search.chat.extractive import extractive_answer, not_said
from search.chat.llm import SYSTEM_PROMPT, LLMConfig, build_answer, generate_answer
from search.chat.questions import content_terms, question_parts, refers_back, rewrite_question
from search.chat.sentences import Sentence, collapse, split_sentences
from search.chat.turn import PASSAGES_PER_ANSWER, answer_from, warm_up
from search.chat.vectors import SENTENCE_VECTORS

__all__ = [
    "EXTRACTIVE",
    "GENERATIVE",
    "PASSAGES_PER_ANSWER",
    "SENTENCE_VECTORS",
    "SYSTEM_PROMPT",
    "Answer",
    "Evidence",
    "LLMConfig",
    "Passage",
    "Sentence",
    "answer_from",
    "build_answer",
    "collapse",
    "content_terms",
    "declines",
    "extractive_answer",
    "generate_answer",
    "not_said",
    "passages_for",
    "question_parts",
    "refers_back",
    "rewrite_question",
    "split_sentences",
    "warm_up",
]
