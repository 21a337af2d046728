"""The installer's setup checklist DM (updated in place as steps get done)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.setup_checklist import SetupFacts


def checklist_text(facts: SetupFacts) -> str:
    done = sum(ok for _, ok in facts.steps())
    return f"Set up Handoff: {done} of {len(facts.steps())} steps done"


def checklist_blocks(facts: SetupFacts) -> list[Block]:
    lines = [f"{':white_check_mark:' if ok else ':white_large_square:'} {text}" for text, ok in facts.steps()]
    head = (
        ":tada: *Handoff is set up.* Leads will find their way."
        if facts.done
        else ":wave: *Welcome to Handoff!* A few steps and leads start flowing to sales:"
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=head)),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text="This list ticks itself off as you go.")]),
    ]
