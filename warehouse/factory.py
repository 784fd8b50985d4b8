"""The writer the settings choose."""

from __future__ import annotations

from warehouse.base import WarehouseWriter


def create_writer(settings) -> WarehouseWriter:
    """The writer the settings choose: Snowflake, or the DuckDB file."""
    if settings.warehouse == "snowflake":
        from warehouse.snowflake import SnowflakeWriter

        return SnowflakeWriter.from_settings(settings)
    from warehouse.duckdb import DuckDBWriter

    # the Snowflake database and schema names also name the DuckDB file and its schema view, so the
    # original README's CARDIOVASCULAR_DB.SYNTHETIC_DATA.PATIENT_DATA queries run on both
    return DuckDBWriter(settings.duckdb_file, settings.warehouse_table, release_after=settings.duckdb_release_seconds,
                        catalog=settings.snowflake_database, schema=settings.snowflake_schema)
