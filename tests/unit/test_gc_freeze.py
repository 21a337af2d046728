"""`handoff run` hides the start-up heap from the garbage collector (bench.jobs: full collections
walked it under load and paused the event loop 80-180 ms)."""

from __future__ import annotations

import gc

from bot.cli.run_cmd import freeze_startup_heap


def test_what_start_up_made_is_out_of_the_collectors_sight() -> None:
    gc.unfreeze()
    survivor = [object() for _ in range(1000)]
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() >= len(survivor)
        assert gc.get_count()[0] < 100  # nothing young left to walk
    finally:
        gc.unfreeze()


def test_serve_freezes_once_the_bot_is_up() -> None:
    import inspect

    from bot.cli import run_cmd

    source = inspect.getsource(run_cmd.serve)
    # after start_background (everything start-up builds exists), before READY (traffic)
    assert source.index("start_background()") < source.index("freeze_startup_heap()")
    assert source.index("freeze_startup_heap()") < source.index("Phase.READY)")
