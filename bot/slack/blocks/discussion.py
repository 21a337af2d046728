"""Partnership discussions in Block Kit: the prompt, an answer with its +1, the answer modal,
and the recap. Pure functions; every person-written string goes through escape()."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.ids import INPUT_ACTION, ActionId, BlockId, CallbackId
from bot.slack.blocks.lead_card import slack_date
from bot.slack.mrkdwn import escape, mention, truncate

MAX_ANSWER_CHARS = 2500  # leaves room in a 3,000-character section for the quote markup
ANONYMOUS_VALUE = "anonymous"
TOP_ANSWERS = 3


def _quote(text: str, limit: int) -> str:
    """Escaped, cut, and quoted line by line (mrkdwn's `>` quotes one line)."""
    body = truncate(escape(text.strip()), limit)
    return "\n".join(f">{line}" for line in body.split("\n"))


def prompt_message(
    *, prompt_id: int, question: str, fact: str | None, closes_at: datetime
) -> tuple[str, list[Block]]:
    blocks: list[Block] = []
    if fact:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":bar_chart: *This week:* {escape(fact)}")))
    blocks.append(
        SectionBlock(text=MarkdownTextObject(text=f":speech_balloon: *{truncate(escape(question), 2800)}*"))
    )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        "Sales and marketing, share what you see — answers go in the thread, "
                        f"anonymously if you like. Recap {slack_date(closes_at)}."
                    )
                )
            ]
        )
    )
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Share your thoughts",
                    action_id=ActionId.SHARE_THOUGHTS.value,
                    value=str(prompt_id),
                    style="primary",
                )
            ]
        )
    )
    lead = f"{escape(fact)} — " if fact else ""
    return truncate(f"Partnership question: {lead}{escape(question)}", 3000), blocks


def _agree_line(votes: int) -> str:
    if votes == 0:
        return "No +1 yet"
    return "1 person agrees" if votes == 1 else f"{votes} people agree"


def answer_message(
    *, answer_id: int, text: str, author_id: str | None, votes: int
) -> tuple[str, list[Block]]:
    """author_id None: anonymous. Then nothing of the author is in the message — not even a side."""
    byline = f"{mention(author_id)} answered" if author_id else "Anonymous answer"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{byline}*\n{_quote(text, MAX_ANSWER_CHARS)}")),
        ContextBlock(elements=[MarkdownTextObject(text=f":+1: {_agree_line(votes)}")]),
        ActionsBlock(
            elements=[ButtonElement(text="+1", action_id=ActionId.PLUS_ONE.value, value=str(answer_id))]
        ),
    ]
    fallback = f"{byline}: {truncate(escape(text.strip()), 200)}"
    return fallback, blocks


def answer_modal(*, prompt_id: int, question: str) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.DISCUSSION_ANSWER.value,
        title=PlainTextObject(text="Share your thoughts"),
        submit=PlainTextObject(text="Post"),
        close=PlainTextObject(text="Cancel"),
        # the prompt id only: nothing about the person travels with the view
        private_metadata=str(prompt_id),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"*{truncate(escape(question), 2900)}*")),
            InputBlock(
                block_id=BlockId.ANSWER.value,
                label=PlainTextObject(text="Your answer"),
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION, multiline=True, max_length=MAX_ANSWER_CHARS
                ),
            ),
            InputBlock(
                block_id=BlockId.ANONYMOUS.value,
                label=PlainTextObject(text="Anonymity"),
                optional=True,
                element=CheckboxesElement(
                    action_id=INPUT_ACTION,
                    options=[
                        Option(
                            value=ANONYMOUS_VALUE,
                            label="Post anonymously",
                            description="Your name is not shown, and Handoff does not keep it.",
                        )
                    ],
                ),
            ),
        ],
    )


def thanks_modal(*, anonymous: bool) -> View:
    how = "anonymously " if anonymous else ""
    return View(
        type="modal",
        title=PlainTextObject(text="Thank you"),
        close=PlainTextObject(text="Done"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":white_check_mark: Your answer will appear {how}in the discussion's thread."
                )
            )
        ],
    )


@dataclass(frozen=True)
class TopAnswer:
    text: str
    votes: int
    author_id: str | None  # None: anonymous


@dataclass(frozen=True)
class Recap:
    question: str
    answers: int
    participants: dict[str, int]  # side ("sales"|"marketing"|"unknown") -> people
    top: Sequence[TopAnswer] = field(default_factory=tuple)
    closed: bool = True


def recap_text(recap: Recap) -> str:
    """mrkdwn; also what the weekly digest includes."""
    head = "*Recap*" if recap.closed else "*So far*"
    lines = [f"{head} — _{truncate(escape(recap.question), 300)}_"]
    if recap.answers == 0:
        lines.append("No answers this time. The next question is coming.")
        return "\n".join(lines)
    people = sum(recap.participants.values())
    answers = "1 answer" if recap.answers == 1 else f"{recap.answers} answers"
    who = " · ".join(
        f"{side} {recap.participants.get(side, 0)}"
        for side in ("sales", "marketing", "unknown")
        if recap.participants.get(side, 0) or side != "unknown"
    )
    lines.append(f"{answers} from {people} {'person' if people == 1 else 'people'} ({who})")
    if recap.top:
        lines.append("*Most agreed with*")
        for item in recap.top:
            by = mention(item.author_id) if item.author_id else "anonymous"
            lines.append(f"{_quote(item.text, 280)}\n— {by} · +{item.votes}")
    else:
        lines.append("No answer got a +1 yet.")
    return "\n".join(lines)


def recap_message(recap: Recap) -> tuple[str, list[Block]]:
    text = truncate(recap_text(recap), 2900)
    answers = "1 answer" if recap.answers == 1 else f"{recap.answers} answers"
    return f"Recap: {answers}", [SectionBlock(text=MarkdownTextObject(text=text))]


def questions_text(questions: Sequence[tuple[int, str, int]]) -> str:
    """(id, text, times asked) per active question, for `/discuss questions list`."""
    if not questions:
        return "The question bank is empty. Add one with `/discuss questions add <question>`."
    lines = [f"*Question bank* ({len(questions)})"]
    for qid, text, asked in questions:
        times = "never asked" if asked == 0 else ("asked once" if asked == 1 else f"asked {asked} times")
        lines.append(f"`#{qid}` {truncate(escape(text), 200)} _({times})_")
    lines.append("Admins: `/discuss questions add <question>` · `/discuss questions remove <#id>`")
    return truncate("\n".join(lines), 3900)
