"""`python -m fakesnow` with Snowflake's key semantics: PRIMARY KEY and UNIQUE are accepted and not enforced.

fakesnow runs on DuckDB, which enforces a primary key; Snowflake stores a duplicate key without a word.
Against a server that enforced it, every "each record_id once" check would hold whatever the writer's
MERGE did. This drops the constraints from CREATE TABLE before fakesnow hands the statement to DuckDB,
so a writer that stops deduplicating stores duplicates here as it would on Snowflake.
"""

from __future__ import annotations

import sys

from sqlglot import exp

from fakesnow import cli
from fakesnow.cursor import FakeSnowflakeCursor

_KEYS = (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint)


def without_keys(expression: exp.Expression) -> exp.Expression:
    """The statement with its PRIMARY KEY and UNIQUE constraints removed (only CREATE TABLE has them)."""
    if isinstance(expression, exp.Create) and expression.kind == "TABLE":
        for node in list(expression.find_all(exp.ColumnConstraint)):
            if isinstance(node.kind, _KEYS):
                node.pop()
        for node in list(expression.find_all(exp.PrimaryKey, exp.UniqueColumnConstraint)):
            node.pop()
    return expression


_transform = FakeSnowflakeCursor._transform


def _transform_unenforced(self, expression, params):
    return _transform(self, without_keys(expression), params)


FakeSnowflakeCursor._transform = _transform_unenforced

if __name__ == "__main__":
    sys.exit(cli.main())
