"""What the bot answers a message with, as pure decisions the handler and the dashboard's
"try a question" box share: the rule that matched, or what the FAQ says and how sure it is."""

from __future__ import annotations

from dataclasses import dataclass

from qunyun.core.i18n import gettext
from qunyun.features.autoreply.faq_search import Hit
from qunyun.features.autoreply.service import Faq
from qunyun.features.autoreply.settings import AutoreplySettings

ANSWER = "answer"  # confident: the entry's answer
SUGGEST = "suggest"  # just under the threshold: "did you mean …?" with the answer
NO_ANSWER = "none"


@dataclass(frozen=True, slots=True)
class FaqOutcome:
    kind: str
    hit: Hit | None = None
    question: str = ""  # the entry's question
    answer: str = ""

    def reply(self, locale: str) -> str | None:
        if self.kind == ANSWER:
            return self.answer
        if self.kind == SUGGEST:
            return gettext("Did you mean “{question}”? {answer}", locale,
                           question=self.question, answer=self.answer)
        return None


def consult_faq(faq: Faq, settings: AutoreplySettings, terms: dict[str, float]) -> FaqOutcome:
    """What the FAQ says to a question (given as its `faq_search.query_terms`)."""
    hit = faq.index.search(terms)
    if hit is None:
        return FaqOutcome(NO_ANSWER)
    question, answer = faq.entries[hit.entry_id]
    if hit.confidence >= settings.faq_threshold:
        kind = ANSWER
    elif hit.confidence >= settings.faq_suggest_threshold:
        kind = SUGGEST
    else:
        kind = NO_ANSWER
    return FaqOutcome(kind, hit, question, answer)
