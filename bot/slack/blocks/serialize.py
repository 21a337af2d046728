"""Block Kit models to the dicts Slack's API takes: `JsonObject.to_dict()`'s result, validators
included, without its per-call introspection.

slack_sdk's `to_dict()` works out, for every object every time, which of its class's names are
validators (a sorted union of `dir()` and `vars()`) and which attributes it has (a property that
builds the set through each base class), then walks them with `getattr`: 2,600 Python calls and
~0.3 ms for a lead card, 7 % of a Claim's samples (py-spy) once its card update is rendered. Here the two
lists are worked out once per class; the same validators run in the same order, the same empty
values are left out. Classes that serialize themselves differently (their own `to_dict`,
`validate_json` or attribute lookup), and anything not from slack_sdk's models, go through their
own `to_dict()`. tests/unit/test_block_serialize.py compares the two on generated lead cards in
every state, a verdict message, a modal, empty lists and invalid models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)
_STANDARD = ("to_dict", "validate_json", "get_non_null_attributes", "get_object_attribute")


class _Plan:
    """What serializing an instance of one class takes: its validators (sorted, as `validate_json`
    calls them) and its attributes (sorted, as `get_non_null_attributes` lists them)."""

    __slots__ = ("attributes", "validator_names", "validators")

    def __init__(self, validators: tuple[str, ...], attributes: tuple[str, ...]) -> None:
        self.validators = validators
        self.validator_names = frozenset(validators)
        self.attributes = attributes


_plans: dict[type, _Plan | None] = {}


def _is_validator(value: Any) -> bool:
    return callable(value) and hasattr(value, "validator")


def _plan(obj: JsonObject) -> _Plan | None:
    cls = type(obj)
    try:
        return _plans[cls]
    except KeyError:
        pass
    plan: _Plan | None = None
    standard = cls.__module__.startswith("slack_sdk.models.") and all(
        getattr(cls, name) is getattr(JsonObject, name) for name in _STANDARD
    )
    if standard:
        validators = tuple(
            sorted(
                name
                for name in dir(cls)
                if not name.startswith("__") and _is_validator(getattr(cls, name, None))
            )
        )
        # slack_sdk's attribute sets are per class (each property unions constants onto its base's)
        plan = _Plan(validators, tuple(sorted(obj.attributes)))
    _plans[cls] = plan
    return plan


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _value(value: Any) -> Any:
    if type(value) in _SCALARS:  # most values: nothing to convert (exact types: no to_dict)
        return value
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, JsonObject):
        return as_dict(value)
    to_dict = getattr(value, "to_dict", None)
    if to_dict and callable(to_dict):
        return {k: _value(v) for k, v in to_dict().items()}
    return value


def as_dict(obj: JsonObject) -> dict[str, Any]:
    """`obj.to_dict()`, validation included (a SlackObjectFormationError when it is not valid)."""
    plan = _plan(obj)
    own = vars(obj)
    # validate_json also looks at the instance's own attributes: one that is callable, or that
    # shadows a validator, is for the generic path (none of slack_sdk's models has either)
    if plan is None or any(map(callable, own.values())) or not plan.validator_names.isdisjoint(own):
        return {k: _value(v) for k, v in obj.to_dict().items()}
    for name in plan.validators:
        getattr(obj, name)()
    kind = getattr(obj, "type", None)
    out: dict[str, Any] = {}
    for key in plan.attributes:
        value = getattr(obj, key, None)
        if value is None:
            continue
        if (
            (kind, key) not in _EMPTY_ALLOWED
            and getattr(value, "__len__", None) is not None
            and not len(value)
        ):
            continue
        out[key] = _value(value)
    return out


def as_dicts(blocks: Iterable[JsonObject]) -> list[dict[str, Any]]:
    return [as_dict(block) for block in blocks]
