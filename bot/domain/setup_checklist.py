"""The first-run checklist an installer gets by DM: which steps are done, from what is configured."""

from __future__ import annotations

from dataclasses import dataclass

CHECKLIST_KEY = "setup_checklist"  # workspace_setting: {"user": installer} once the DM was queued
CHANNEL_KEYS = ("sales_channel", "marketing_channel", "partnership_channel")


@dataclass(frozen=True)
class SetupFacts:
    channels: int  # of the three channels, how many are configured
    admins: int
    rules: int

    @property
    def nothing_configured(self) -> bool:
        return self.channels == 0 and self.rules == 0

    def steps(self) -> list[tuple[str, bool]]:
        return [
            (
                "Invite @Handoff to your sales, marketing and partnership channels (`/invite @Handoff`), "
                "then pick them in Handoff's *Home* tab → *Settings* "
                f"({self.channels} of 3)",
                self.channels == 3,
            ),
            ("Add a second admin (Home → Settings → Handoff admins)", self.admins >= 2),
            ("Add a first routing rule: `/handoff route add …`", self.rules >= 1),
        ]

    @property
    def done(self) -> bool:
        return all(ok for _, ok in self.steps())
