"""The outbox: every Slack write that follows a state change is a row written in the same
transaction as the change (notifier), then claimed, rendered, paced, delivered and recorded by
the sender of each running instance."""
