"""Analysis SQL from users (`cardiosynth sql`, POST /warehouse/sql): one statement that only reads.

The statement is classified by DuckDB's parser, which reads the original README's queries (and most
Snowflake SELECTs) as Postgres-style SQL; a statement it cannot parse is refused unless it is a plain
SHOW or DESCRIBE. DuckDB runs the query on a read-only attachment besides (warehouse/duckdb.py).
"""

from __future__ import annotations

import duckdb

READ_TYPES = {"SELECT", "EXPLAIN"}
READ_KEYWORDS = {"SHOW", "DESCRIBE", "DESC"}
ALLOWED = "SELECT, WITH ... SELECT, SHOW, DESCRIBE or EXPLAIN"


class ReadOnlyError(ValueError):
    """The SQL is not one statement that only reads."""


def check_read_only(sql: str) -> str:
    """The statement without a trailing semicolon; raises ReadOnlyError for anything that would write."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise ReadOnlyError("the SQL is empty")
    parser = duckdb.connect(":memory:")
    try:
        statements = parser.extract_statements(text)
    except duckdb.Error:
        statements = None
    finally:
        parser.close()
    if statements is None:
        if text.split(None, 1)[0].upper() in READ_KEYWORDS and ";" not in text:
            return text
        raise ReadOnlyError(f"cannot read the SQL as one read-only statement ({ALLOWED})")
    if len(statements) != 1:
        raise ReadOnlyError(f"send one statement at a time, not {len(statements)}")
    kind = statements[0].type.name
    if kind not in READ_TYPES:
        raise ReadOnlyError(f"{kind} statements are refused: the warehouse is read-only here ({ALLOWED} only)")
    return text
