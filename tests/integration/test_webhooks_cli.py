"""`handoff webhooks …` as an operator runs it: the secret alone on stdout, refusals exit 1."""

from __future__ import annotations

from tests.integration.test_migrate import empty_database_url, handoff_cli  # noqa: F401

T = ("--team-id", "T0CLI")


def test_add_list_replay_remove(empty_database_url: str) -> None:  # noqa: F811
    url = empty_database_url
    assert handoff_cli("migrate", database_url=url).returncode == 0
    added = handoff_cli(
        "webhooks", "add", "https://hooks.example.com/in", "--events", "lead.*", *T, database_url=url
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("whsec_") and len(added.stdout.strip().splitlines()) == 1
    listed = handoff_cli("webhooks", "list", *T, database_url=url)
    assert "#1 https://hooks.example.com/in · lead.* · active" in listed.stdout
    assert "whsec_" not in listed.stdout + listed.stderr  # shown once only
    replayed = handoff_cli("webhooks", "replay", "--since", "3d", *T, database_url=url)
    assert replayed.returncode == 0 and "queued 0 deliveries" in replayed.stderr
    for bad in (("add", "http://169.254.169.254/"), ("add", "ftp://x.example/"), ("remove", "9")):
        refused = handoff_cli("webhooks", *bad, *T, database_url=url)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert handoff_cli("webhooks", "remove", "1", *T, database_url=url).returncode == 0
    assert "no webhook endpoints" in handoff_cli("webhooks", "list", *T, database_url=url).stderr
