"""Distribution as pure logic (bot/domain/distribution.py): weights, caps, strict turns, least
loaded with random tie-breaks, no catch-up flood, counts that survive team changes, and the why of
every candidate. Property tests: shares match weights, caps hold, an unavailable rep never takes a
lead while an available one could."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.distribution import Load, Outcome, Pool, pick, preview, turn_order
from bot.domain.routing import RuleSpec


def rule(reps: tuple[str, ...], weights: tuple[int, ...] = (), **kw: object) -> RuleSpec:
    return RuleSpec(id=1, name="r", priority=1, channel_id="C", reps=reps, weights=weights, **kw)  # type: ignore[arg-type]


def run(pool: Pool, n: int, unavailable: dict[str, str] | None = None, seed: int = 1) -> Counter[str]:
    rng = Random(seed)
    got: Counter[str] = Counter()
    for _ in range(n):
        chosen = pick(pool, unavailable or {}, rng).rep
        got[chosen or "-"] += 1
    return got


def test_turn_order_repeats_weighted_reps_within_a_round() -> None:
    assert turn_order(rule(("a", "b", "c"), (2, 1, 3))) == ("a", "b", "c", "a", "c", "c")
    assert turn_order(rule(("a", "b"))) == ("a", "b")


def test_turn_is_strict_and_a_skipped_rep_loses_the_turn_with_a_reason() -> None:
    pool = Pool(rule(("a", "b", "c")))
    assert [pick(pool, {}, Random(0)).rep for _ in range(4)] == ["a", "b", "c", "a"]
    result = pick(pool, {"b": "away"}, Random(0))
    assert result.rep == "c"
    outcomes = {c.user_id: (c.outcome, c.why) for c in result.candidates}
    assert outcomes["b"] == (Outcome.SKIPPED, "away")
    assert outcomes["c"][0] is Outcome.CHOSEN and outcomes["a"][0] is Outcome.WAITING


def test_caps_per_day_and_week_skip_a_rep_and_say_so() -> None:
    pool = Pool(rule(("a", "b"), cap_day=2))
    got = run(pool, 6)
    assert got == {"a": 2, "b": 2, "-": 2}  # then nobody: the rule's channel takes it
    last = pick(pool, {}, Random(0))
    assert last.rep is None and set(last.capped) == {"a", "b"}
    assert all(c.why == "cap reached (2/day)" for c in last.candidates)
    # a new day: the service hands in loads whose day count is 0 again
    pool.loads = {rep: replace(load, day_count=0) for rep, load in pool.loads.items()}
    assert pick(pool, {}, Random(0)).rep is not None
    weekly = Pool(rule(("a",), cap_week=1), loads={"a": Load(week_count=1, known=True)})
    assert pick(weekly, {}, Random(0)).candidates[0].why == "cap reached (1/week)"


def test_least_loaded_ties_are_drawn_at_random_not_first_listed() -> None:
    firsts = Counter(
        pick(Pool(rule(("a", "b", "c"), distribute="least_loaded")), {}, Random(s)).rep for s in range(300)
    )
    assert set(firsts) == {"a", "b", "c"} and min(firsts.values()) > 60
    result = pick(Pool(rule(("a", "b"), distribute="least_loaded")), {}, Random(3))
    assert "drawn at random" in result.candidates[0].why


def test_no_catch_up_flood_after_an_absence_unless_the_rule_says_so() -> None:
    for catch_up in (False, True):
        pool = Pool(rule(("a", "b", "c"), distribute="least_loaded", catch_up=catch_up))
        run(pool, 30)
        run(pool, 60, {"c": "away"})  # a and b take 30 each meanwhile
        rng = Random(5)
        back = [pick(pool, {}, rng).rep for _ in range(30)]
        if catch_up:
            assert back[:20].count("c") == 20  # c catches up on what they missed first
        else:
            assert back[:10].count("c") <= 4, back  # a fair third from now on, no flood
            assert 8 <= back.count("c") <= 12, back


def test_counts_survive_removing_and_re_adding_a_rep() -> None:
    pool = Pool(rule(("a", "b"), distribute="least_loaded"))
    run(pool, 10)
    loads = dict(pool.loads)
    without = Pool(rule(("a",), distribute="least_loaded"), virtual_time=pool.virtual_time, loads=loads)
    run(without, 4)
    again = Pool(
        rule(("a", "b"), distribute="least_loaded"),
        virtual_time=without.virtual_time,
        loads=dict(without.loads),
    )
    assert again.loads["b"].total == 5  # b's counts were kept by person, not position
    got = run(again, 10)
    assert abs(got["a"] - got["b"]) <= 2  # b neither floods nor starves on return


def test_a_new_rep_joins_at_the_current_share() -> None:
    pool = Pool(rule(("a", "b"), distribute="least_loaded"))
    run(pool, 40)
    joined = Pool(
        rule(("a", "b", "c"), distribute="least_loaded"),
        virtual_time=pool.virtual_time,
        loads=dict(pool.loads),
    )
    got = run(joined, 9)
    assert got["c"] <= 4


def test_preview_moves_nothing() -> None:
    pool = Pool(rule(("a", "b")))
    assert preview(pool, {}, Random(0)).rep == "a"
    assert preview(pool, {}, Random(0)).rep == "a" and pool.cursor == 0 and not pool.loads


# -- properties -----------------------------------------------------------------------------

reps_st = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(weights=reps_st, mode=st.sampled_from(["turn", "least_loaded"]), seed=st.integers(0, 10_000))
def test_shares_match_weights(weights: list[int], mode: str, seed: int) -> None:
    reps = tuple(f"U{i}" for i in range(len(weights)))
    pool = Pool(rule(reps, tuple(weights), distribute=mode))
    total_weight = sum(weights)
    n = total_weight * 40
    got = run(pool, n, seed=seed)
    for rep, weight in zip(reps, weights, strict=True):
        expected = n * weight / total_weight
        assert abs(got[rep] - expected) <= max(2, 0.02 * expected), (got, weights)


@settings(max_examples=60, deadline=None)
@given(
    weights=reps_st,
    cap=st.integers(1, 8),
    mode=st.sampled_from(["turn", "least_loaded"]),
    leads=st.integers(1, 80),
    seed=st.integers(0, 10_000),
)
def test_never_above_a_cap(weights: list[int], cap: int, mode: str, leads: int, seed: int) -> None:
    reps = tuple(f"U{i}" for i in range(len(weights)))
    pool = Pool(rule(reps, tuple(weights), distribute=mode, cap_day=cap))
    got = run(pool, leads, seed=seed)
    assert all(got[rep] <= cap for rep in reps)
    assert got["-"] == max(0, leads - cap * len(reps))  # nobody left out while someone had room


@settings(max_examples=80, deadline=None)
@given(
    weights=reps_st,
    mode=st.sampled_from(["turn", "least_loaded"]),
    rounds=st.lists(st.sets(st.integers(0, 5)), min_size=1, max_size=30),
    seed=st.integers(0, 10_000),
)
def test_never_an_unavailable_rep_while_one_is_available(
    weights: list[int], mode: str, rounds: list[set[int]], seed: int
) -> None:
    reps = tuple(f"U{i}" for i in range(len(weights)))
    pool = Pool(rule(reps, tuple(weights), distribute=mode))
    rng = Random(seed)
    for out in rounds:
        unavailable = {f"U{i}": "away" for i in out if i < len(reps)}
        chosen = pick(pool, unavailable, rng).rep
        if len(unavailable) < len(reps):
            assert chosen is not None and chosen not in unavailable
        else:
            assert chosen is None
