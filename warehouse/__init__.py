"""Where records land: a writer interface, DuckDB (embedded default) and Snowflake."""

from warehouse.base import QueryError, WarehouseError, WarehouseWriter
from warehouse.factory import create_writer

__all__ = ["WarehouseWriter", "WarehouseError", "QueryError", "create_writer"]
