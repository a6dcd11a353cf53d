"""Keywords of a phone number or pool, and what an inbound message that begins with one does. Pure:
no I/O; the use cases that load and save an identity's keywords are in `pinfold.sms.pools`.

An identity's document keeps its keywords under "_keywords" as {KEYWORD (upper case):
{"KeywordMessage", "KeywordAction"}}. Every number and pool has HELP (AUTOMATIC_RESPONSE) and STOP
(OPT_OUT): PutKeyword may change their message, never their action, and DeleteKeyword refuses them.
Keywords are case-insensitive. The legal opt-out words (ARRET, CANCEL, END, OPT-OUT, OPTOUT, QUIT,
REMOVE, STOP, TD, UNSUBSCRIBE) always opt the sender out, answered with STOP's message unless one
was put for the word itself; DescribeKeywords lists only the keywords the document holds (HELP,
STOP and those put), not the words honoured implicitly. A word of that family may be put (to give it
its own message) only with the action OPT_OUT.

Which document answers: a number in a pool answers with its pool's keywords (`answering_document`).
`answer` does not look at SelfManagedOptOutsEnabled: with it on, the inbound path records no opt-out
and sends no reply of its own, as AWS documents, but it still learns that the word was an opt-out.
"""

from __future__ import annotations

from pinfold.core.errors import Conflict, LimitExceeded, NotFound
from pinfold.sms.rules.ids import invalid

OPT_OUT = "OPT_OUT"
OPT_IN = "OPT_IN"
AUTOMATIC_RESPONSE = "AUTOMATIC_RESPONSE"
ACTIONS = (AUTOMATIC_RESPONSE, OPT_OUT, OPT_IN)
OPT_OUT_WORDS = frozenset({"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD",
                           "UNSUBSCRIBE"})
MANDATORY = {"HELP": AUTOMATIC_RESPONSE, "STOP": OPT_OUT}
# Pinfold's own bound (AWS documents no default): keywords on one number or pool, HELP and STOP included.
MAX_KEYWORDS = 30
DEFAULT_MESSAGES = {
    "HELP": "This number sends automated messages. Reply STOP to stop receiving them.",
    "STOP": "You are opted out and will receive no more messages from this number.",
}


def default_keywords() -> dict:
    """The keywords a new number (or a pool made from a sender id) starts with."""
    return {word: {"KeywordMessage": DEFAULT_MESSAGES[word], "KeywordAction": action}
            for word, action in MANDATORY.items()}


def keywords_of(document: dict) -> dict:
    """The document's keywords, with HELP and STOP filled in if an older document lacks them."""
    return {**default_keywords(), **(document.get("_keywords") or {})}


def normalise(keyword: str) -> str:
    """The keyword as stored and matched: upper case. No leading or trailing whitespace, 1 to 30 chars."""
    if not keyword or len(keyword) > 30 or keyword != keyword.strip():
        raise invalid(f"Invalid keyword {keyword!r}: use 1 to 30 characters with no space first or last",
                      "FIELD_VALIDATION_FAILED", "Keyword")
    return keyword.upper()


def put(keywords: dict, keyword: str, message: str, action: str | None, *, quota_reason: str) -> tuple[dict, dict]:
    """The keywords with `keyword` set, and the KeywordInformation of what was set."""
    word = normalise(keyword)
    fixed = MANDATORY.get(word) or (OPT_OUT if word in OPT_OUT_WORDS else None)
    action = action or fixed or AUTOMATIC_RESPONSE
    if action not in ACTIONS:
        raise invalid(f"KeywordAction must be one of {', '.join(ACTIONS)}", "FIELD_VALIDATION_FAILED", "KeywordAction")
    if fixed is not None and action != fixed:
        raise Conflict(f"The action of keyword {word} is {fixed} and cannot be changed; only its message can",
                       details={"Reason": "RESOURCE_MODIFICATION_NOT_ALLOWED", "ResourceType": "keyword",
                                "ResourceId": word})
    if not message or not message.strip() or len(message) > 1600:
        raise invalid("KeywordMessage must be 1 to 1600 characters, not all whitespace", "FIELD_VALIDATION_FAILED",
                      "KeywordMessage")
    if word not in keywords and len(keywords) >= MAX_KEYWORDS:
        raise LimitExceeded(f"An origination identity can have at most {MAX_KEYWORDS} keywords",
                            details={"Reason": quota_reason})
    entry = {"KeywordMessage": message, "KeywordAction": action}
    return {**keywords, word: entry}, {"Keyword": word, **entry}


def delete(keywords: dict, keyword: str) -> tuple[dict, dict]:
    """The keywords without `keyword`, and the KeywordInformation of what was removed."""
    word = normalise(keyword)
    if word in MANDATORY:
        raise Conflict(f"Keyword {word} is required on every origination identity and cannot be deleted",
                       details={"Reason": "RESOURCE_DELETION_NOT_ALLOWED", "ResourceType": "keyword",
                                "ResourceId": word})
    if word not in keywords:
        raise NotFound(f"Keyword {word} does not exist", details={"ResourceType": "keyword", "ResourceId": word})
    remaining = {k: v for k, v in keywords.items() if k != word}
    return remaining, {"Keyword": word, **keywords[word]}


def information(keywords: dict) -> list[dict]:
    """KeywordInformation for each keyword, in keyword order."""
    return [{"Keyword": word, **keywords[word]} for word in sorted(keywords)]


def answering_document(number_document: dict, pool_document: dict | None) -> dict:
    """Whose keywords answer a message sent to a number: its pool's when it is in one."""
    return pool_document if pool_document is not None else number_document


def matched(document: dict, body: str) -> str | None:
    """The keyword `body` begins with: the longest of the identity's keywords and the opt-out words
    that fits, followed by the end of the message or a non-alphanumeric character; None if none."""
    text = (body or "").strip().upper()
    for word in sorted(set(keywords_of(document)) | OPT_OUT_WORDS, key=len, reverse=True):
        if text == word or (text.startswith(word) and not text[len(word)].isalnum()):
            return word
    return None


def answer(document: dict, body: str) -> tuple[str, str] | None:
    """(KeywordAction, KeywordMessage) when `body` begins with one of the identity's keywords or an
    opt-out word (which answers as STOP does); None otherwise."""
    word = matched(document, body)
    if word is None:
        return None
    keywords = keywords_of(document)
    if word in keywords:
        return keywords[word]["KeywordAction"], keywords[word]["KeywordMessage"]
    return OPT_OUT, keywords["STOP"]["KeywordMessage"]
