"""The analysis queries shipped with the product; the same SQL runs on DuckDB and Snowflake."""

from analysis.queries import QUERIES

__all__ = ["QUERIES"]
