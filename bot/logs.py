"""No personal data in the logs, at any level (docs/operations.md, "Security and logs").

At DEBUG, slack_sdk logs every Web API request and response whole (a card's blocks carry the lead's
name, email, phone and notes), Bolt logs each ack's body, and SQLAlchemy logs query parameters and
result rows. Raising those loggers' level would also lose what an operator debugging wants: which
Slack method was called, with what status, which SQL ran. So these records keep that and lose the
rest: a filter on the loggers that write them cuts each message before its first body-carrying
part, and the engine hides SQL parameters (bot/storage/db.py, hide_parameters).
"""

from __future__ import annotations

import logging

BOLT_LOGGER = "slack_bolt.AsyncApp"  # given to AsyncApp, which copies its filters to its sub-loggers
# where each logger's messages start to carry bodies; everything from there on is cut
_CUT_AT = {
    "slack_sdk.web.async_base_client": (", params:", ", headers:", ", body:"),
    "slack_sdk.web.base_client": (", params:", ", headers:", ", body:"),
    "slack_sdk.webhook.async_client": (", body:", ", headers:"),
    "slack_sdk.webhook.client": (", body:", ", headers:"),
    BOLT_LOGGER: (" body:",),
}
_SQL_ROWS = ("Row %r",)  # SQLAlchemy's DEBUG result rows; its "Col %r" (column names) stays
_SQL_ENGINE = "sqlalchemy.engine.Engine"
REDACTED = " … (bodies are not logged)"


class CutBodies(logging.Filter):
    """Cuts a record's message before the first marker, so what comes after (a body) is gone."""

    def __init__(self, markers: tuple[str, ...]) -> None:
        super().__init__()
        self.markers = markers

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cuts = [i for i in (message.find(m) for m in self.markers) if i >= 0]
        if cuts:
            record.msg, record.args = message[: min(cuts)] + REDACTED, ()
        return True


class HideRows(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in _SQL_ROWS:
            record.args = ("(row hidden)",)
        return True


def keep_personal_data_out_of_logs() -> None:
    """Install the filters (once per process; building the app again adds none)."""
    for name, markers in _CUT_AT.items():
        _install(logging.getLogger(name), CutBodies(markers))
    _install(logging.getLogger(_SQL_ENGINE), HideRows())


def _install(logger: logging.Logger, new: logging.Filter) -> None:
    if not any(type(f) is type(new) for f in logger.filters):
        logger.addFilter(new)
