"""SnowflakeWriter through the real Snowflake connector against a fakesnow server."""

from __future__ import annotations

import logging
import re

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from worker.settings import Settings
from tests.warehouse.conftest import SECRET_PASSWORD, snowflake_writer_for
from tests.exactly_once import assert_each_once, stored_ids
from tests.warehouse.rows import make_rows
from warehouse import WarehouseError, create_writer
from warehouse import snowflake as snowflake_module
from warehouse.snowflake import SnowflakeWriter


def landed(writer) -> dict:
    return writer.query(
        f"SELECT count(*) AS n, count(DISTINCT record_id) AS ids, count(kafka_offset) AS offsets, "
        f"count(kafka_topic) AS topics, count(kafka_partition) AS partitions, min(kafka_offset) AS first, "
        f"max(kafka_offset) AS last FROM {writer.table}"
    )[0]


def test_open_creates_database_schema_table_and_stage(snowflake_writer):
    snowflake_writer.open()

    schemas = snowflake_writer.query(
        "SELECT catalog_name, schema_name FROM information_schema.schemata WHERE schema_name = 'SYNTHETIC_DATA'"
    )
    assert {"catalog_name": snowflake_writer.database, "schema_name": "SYNTHETIC_DATA"} in schemas
    columns = snowflake_writer.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'SYNTHETIC_DATA' "
        "AND table_name = 'PATIENT_DATA'"
    )
    assert {c["column_name"].lower() for c in columns} == set(snowflake_writer.columns)
    stages = snowflake_writer.query("SHOW STAGES LIKE 'PATIENT_DATA_STAGE'")
    assert [s["name"] for s in stages] == ["PATIENT_DATA_STAGE"]


def test_20000_rows_land_once_each_with_kafka_coordinates(snowflake_writer):
    assert snowflake_writer.write(make_rows(20_000)) == 20_000

    assert landed(snowflake_writer) == {
        "n": 20_000, "ids": 20_000, "offsets": 20_000, "topics": 20_000, "partitions": 20_000,
        "first": 0, "last": 19_999,
    }
    assert snowflake_writer.query("LIST @PATIENT_DATA_STAGE") == []  # COPY ... PURGE took the file off the stage


def test_a_replayed_batch_is_stored_once(snowflake_writer):
    rows = make_rows(20_000)
    snowflake_writer.write(rows)

    assert snowflake_writer.write(rows) == 0
    assert_each_once(stored_ids(snowflake_writer), (r["record_id"] for r in rows))
    more = make_rows(300, rows[0]["request_id"], offset=20_000)
    assert snowflake_writer.write(rows[-500:] + more) == 300
    assert_each_once(stored_ids(snowflake_writer), (r["record_id"] for r in rows + more))


def test_a_batch_repeating_a_record_id_stores_it_once(snowflake_writer):
    rows = make_rows(10)
    assert snowflake_writer.write(rows + rows[:3]) == 10
    assert_each_once(stored_ids(snowflake_writer), (r["record_id"] for r in rows))


def test_new_columns_are_added_before_loading(snowflake_writer):
    rows = make_rows(50)
    for i, row in enumerate(rows):
        row.update(risk_score=i / 10, on_statins=i % 2 == 0)

    assert snowflake_writer.write(rows) == 50

    assert snowflake_writer.query(f"SELECT sum(risk_score) AS total, count_if(on_statins) AS statins FROM "
                                  f"{snowflake_writer.table}") == [{"total": pytest.approx(122.5), "statins": 25}]
    reopened = SnowflakeWriter(**{**_same_target(snowflake_writer), "password": SECRET_PASSWORD})
    reopened.open()
    assert reopened.columns["risk_score"] == "DOUBLE" and reopened.columns["on_statins"] == "BOOLEAN"
    reopened.close()


def test_summary(snowflake_writer):
    first, second = make_rows(120, model_version=1), make_rows(30, model_version=2)
    snowflake_writer.write(first)
    snowflake_writer.write(second)

    summary = snowflake_writer.summary()
    assert summary["warehouse"] == "snowflake" and summary["table"] == "PATIENT_DATA"
    assert summary["row_count"] == summary["distinct_record_ids"] == 150
    assert summary["latest_ingested_at"] == max(first[0]["ingested_at"], second[0]["ingested_at"])
    assert summary["rows_per_model_version"] == [
        {"model_name": "cvd", "model_version": 1, "rows": 120}, {"model_name": "cvd", "model_version": 2, "rows": 30},
    ]


def test_an_expired_session_is_renewed_inside_the_writer(snowflake_writer, fakesnow_server, caplog):
    snowflake_writer.write(make_rows(10))
    token = snowflake_writer.session._con.rest.token
    requests.post(  # what Snowflake does when a session expires: the server forgets the token
        f"http://localhost:{fakesnow_server.port}/session?delete=true",
        headers={"Authorization": f'Snowflake Token="{token}"'}, json={}, timeout=10,
    ).raise_for_status()

    assert snowflake_writer.write(make_rows(10, offset=10)) == 10
    assert landed(snowflake_writer)["n"] == 20
    assert any("reconnecting" in r.getMessage() for r in caplog.records)


def test_sql_errors_raise_warehouse_error(snowflake_writer):
    with pytest.raises(WarehouseError, match="NO_SUCH_TABLE"):
        snowflake_writer.query("SELECT * FROM NO_SUCH_TABLE")


def test_the_password_is_never_logged_nor_put_in_errors(private_fakesnow, caplog):
    caplog.set_level(logging.DEBUG)
    # a short network timeout: the connector retries a refused connection until it runs out
    writer = snowflake_writer_for(private_fakesnow, network_timeout=1)
    assert writer.session.password.get_secret_value() == SECRET_PASSWORD  # so the checks below can fail
    writer.write(make_rows(100))
    private_fakesnow.stop()

    with pytest.raises(WarehouseError) as raised:
        writer.write(make_rows(100, offset=100))

    assert "write of 100 rows failed after 2 attempts" in str(raised.value)
    assert SECRET_PASSWORD not in str(raised.value)
    assert SECRET_PASSWORD not in repr(writer)
    assert caplog.records, "the connector and the writer log at DEBUG: nothing captured means nothing was checked"
    for record in caplog.records:
        assert SECRET_PASSWORD not in record.getMessage(), record.name
    assert SECRET_PASSWORD not in caplog.text
    writer.close()


def test_key_pair_auth_and_a_wrong_passphrase(snowflake_writer, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    passphrase = f"phrase-{SECRET_PASSWORD}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "rsa_key.p8"
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ))
    target = _same_target(snowflake_writer)

    writer = SnowflakeWriter(**target, private_key_file=key_file, private_key_passphrase=passphrase)
    assert writer.write(make_rows(5)) == 5
    writer.close()
    with pytest.raises(WarehouseError, match="private key") as raised:
        SnowflakeWriter(**target, private_key_file=key_file, private_key_passphrase="not-it").open()

    assert passphrase not in str(raised.value) and "not-it" not in str(raised.value)
    assert passphrase not in caplog.text


def test_from_settings_and_create_writer(fakesnow_server):
    settings = Settings(
        warehouse="snowflake", snowflake_account="acct", snowflake_user="tester", snowflake_password=SECRET_PASSWORD,
        snowflake_database="SETTINGS_DB", snowflake_table="RECORDS", snowflake_host="localhost",
        snowflake_port=fakesnow_server.port, snowflake_protocol="http",
    )
    writer = create_writer(settings)

    assert isinstance(writer, SnowflakeWriter) and writer.table == "RECORDS"
    assert writer.write(make_rows(3)) == 3
    assert writer.summary()["row_count"] == 3
    writer.close()


def _same_target(writer: SnowflakeWriter) -> dict:
    """Options that reach the writer's database again, without a credential."""
    args = writer.session.connect_args
    return {"account": args["account"], "user": args["user"], "database": writer.database,
            "host": args["host"], "port": args["port"], "protocol": args["protocol"], "attempts": 2,
            "retry_delay": 0.1, "network_timeout": 5}


def test_snowflake_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WAREHOUSE", "snowflake")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", SECRET_PASSWORD)
    monkeypatch.setenv("SNOWFLAKE_PORT", "")  # as a copied .env.example leaves it
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_FILE", "")
    monkeypatch.setenv("SNOWFLAKE_TABLE", "records")

    settings = Settings()

    assert settings.snowflake_port is None and settings.snowflake_private_key_file is None
    assert settings.snowflake_password.get_secret_value() == SECRET_PASSWORD
    assert SECRET_PASSWORD not in repr(settings) and SECRET_PASSWORD not in str(settings.model_dump())
    writer = SnowflakeWriter.from_settings(settings)
    assert (writer.database, writer.schema, writer.table) == ("CARDIOVASCULAR_DB", "SYNTHETIC_DATA", "RECORDS")
    assert SECRET_PASSWORD not in repr(writer)


class WriterWithoutDedup(SnowflakeWriter):
    """The writer with its deduplication switched off: the MERGE becomes a plain INSERT."""

    @staticmethod
    def _execute(cur, sql: str, params: tuple | None = None):
        merge = re.fullmatch(r"MERGE INTO (\w+) t USING (\w+) s ON .* THEN INSERT \(([^)]*)\) VALUES .*", sql)
        if merge:
            table, incoming, names = merge.groups()
            sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM {incoming}"
        return SnowflakeWriter._execute(cur, sql, params)


def test_the_exactly_once_check_fails_when_the_writer_stops_deduplicating(fakesnow_server, monkeypatch):
    """The server stores a repeated record_id as Snowflake does: only the writer's dedup prevents it."""
    monkeypatch.setattr(snowflake_module, "first_per_record_id", lambda rows: rows)
    writer = snowflake_writer_for(fakesnow_server)
    writer.__class__ = WriterWithoutDedup
    rows = make_rows(50)
    try:
        writer.write(rows)
        writer.write(rows[:20])  # a redelivery
        with pytest.raises(AssertionError, match="70 rows stored for 50 records; 20 record_ids stored more than once"):
            assert_each_once(stored_ids(writer), (r["record_id"] for r in rows))
    finally:
        writer.close()


def test_stored_from_names_the_rows_whose_stored_copy_came_from_their_own_message(snowflake_writer):
    rows = make_rows(50)
    assert snowflake_writer.write(rows) == 50
    again = [dict(row) for row in rows[:20]]  # the same messages written again: a crash before the commit
    replayed = [dict(row, kafka_offset=row["kafka_offset"] + 1000) for row in rows[20:]]  # copies at new offsets
    assert snowflake_writer.write(again + replayed) == 0
    assert snowflake_writer.stored_from(again + replayed) == {row["record_id"] for row in again}
