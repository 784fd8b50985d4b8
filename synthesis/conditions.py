"""Conditional generation: fixed values for categorical columns, checked against the model first."""

from __future__ import annotations

from typing import Any

MAX_TRIES_PER_BATCH = 100


class ConditionError(ValueError):
    """Conditions that name unknown columns or values, or that the model cannot reach."""


def validate_conditions(columns: list[dict[str, Any]], conditions: dict[str, Any] | None) -> dict[str, Any]:
    """The conditions, if every key is a categorical column of the model and every value one of its categories."""
    if not conditions:
        return {}
    by_name = {c["name"]: c for c in columns}
    for column, value in conditions.items():
        if column not in by_name:
            raise ConditionError(f"conditions: unknown column {column!r}; the model has {sorted(by_name)}")
        categories = by_name[column].get("categories")
        if categories is None:
            raise ConditionError(f"conditions: column {column!r} is not categorical; only categorical columns can be fixed")
        if str(value) not in categories:
            raise ConditionError(f"conditions: {column!r} has no category {value!r}; known: {categories}")
    return dict(conditions)


def sample_conditioned(synthesizer, num_rows: int, conditions: dict[str, Any]):
    """Exactly num_rows rows with the conditions, or ConditionError; reject sampling is bounded, never a hang."""
    from sdv.sampling import Condition

    try:
        sampled = synthesizer.sample_from_conditions(
            [Condition(num_rows=num_rows, column_values=conditions)], max_tries_per_batch=MAX_TRIES_PER_BATCH
        )
    except ValueError as exc:
        raise ConditionError(f"the model cannot produce rows with conditions {conditions}: {exc}") from None
    if isinstance(sampled, dict):
        sampled = next(iter(sampled.values()))
    if len(sampled) < num_rows:
        raise ConditionError(
            f"the model produced only {len(sampled)} of {num_rows} rows with conditions {conditions} "
            f"after {MAX_TRIES_PER_BATCH} tries per batch; the combination is too rare in what it learned"
        )
    return sampled.reset_index(drop=True)
