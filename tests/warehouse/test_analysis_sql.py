"""The original README's three analysis queries, verbatim, on DuckDB and on Snowflake (fakesnow); writes refused."""

from __future__ import annotations

import duckdb
import pytest

from tests.warehouse.conftest import snowflake_writer_for
from tests.warehouse.rows import make_rows
from warehouse import QueryError
from warehouse.duckdb import DuckDBWriter
from warehouse.read_only import ReadOnlyError, check_read_only

# As the original README gives them (only the SQL comments are left out).
RECENT = """SELECT * FROM CARDIOVASCULAR_DB.SYNTHETIC_DATA.PATIENT_DATA
ORDER BY ingested_at DESC
LIMIT 100;"""
BY_AGE = """SELECT 
 age_category,
 COUNT(*) as count,
 AVG(bmi) as avg_bmi,
 SUM(CASE WHEN heart_disease = 'Yes' THEN 1 ELSE 0 END) as heart_disease_count
FROM CARDIOVASCULAR_DB.SYNTHETIC_DATA.PATIENT_DATA
GROUP BY age_category;"""
HEART = """SELECT 
 heart_disease,
 COUNT(*) as count,
 ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 2) as percentage
FROM CARDIOVASCULAR_DB.SYNTHETIC_DATA.PATIENT_DATA
GROUP BY heart_disease;"""
SPEC_QUERIES = [RECENT, BY_AGE, HEART]


def check_answers(writer, rows) -> None:
    names, recent = writer.read(check_read_only(RECENT), 1000)
    assert "record_id" in [n.lower() for n in names] and len(recent) == 100
    names, by_age = writer.read(check_read_only(BY_AGE), 1000)
    assert [n.lower() for n in names] == ["age_category", "count", "avg_bmi", "heart_disease_count"]
    assert sum(r[1] for r in by_age) == len(rows)
    assert sum(r[3] for r in by_age) == sum(r["heart_disease"] == "Yes" for r in rows)
    names, heart = writer.read(check_read_only(HEART), 1000)
    assert [n.lower() for n in names] == ["heart_disease", "count", "percentage"]
    assert sorted(r[0] for r in heart) == ["No", "Yes"] and round(float(sum(r[2] for r in heart))) == 100


def test_the_readmes_queries_run_verbatim_on_duckdb(tmp_path):
    writer = DuckDBWriter(tmp_path / "warehouse.duckdb")  # the default names: CARDIOVASCULAR_DB.SYNTHETIC_DATA
    try:
        rows = make_rows(500)
        writer.write(rows)
        check_answers(writer, rows)
        assert writer.write(make_rows(10, seed=8)) == 10  # the writer goes on after a read
        assert writer.read("SELECT count(*) FROM PATIENT_DATA", 10) == (["count_star()"], [(510,)])
    finally:
        writer.close()


def test_duckdb_reads_are_read_only_and_see_no_other_files(tmp_path):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    writer = DuckDBWriter(tmp_path / "warehouse.duckdb")
    try:
        writer.write(make_rows(5))
        with pytest.raises(QueryError, match="read-only"):
            writer.read("INSERT INTO PATIENT_DATA (record_id) VALUES ('x')", 10)  # past the statement check too
        with pytest.raises(QueryError, match="external access|disabled"):
            writer.read(f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')", 10)
        with pytest.raises(QueryError, match="NOPE"):
            writer.read("SELECT * FROM NOPE", 10)
    finally:
        writer.close()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)  # the file is let go after a read
    assert con.execute("SELECT count(*) FROM PATIENT_DATA").fetchone() == (5,)
    con.close()


def test_the_readmes_queries_run_verbatim_on_snowflake(fakesnow_server):
    writer = snowflake_writer_for(fakesnow_server, database="CARDIOVASCULAR_DB")
    try:
        writer.open()
        before = writer.query("SELECT count(*) AS n FROM PATIENT_DATA")[0]["n"]
        assert before == 0, "CARDIOVASCULAR_DB is this test's own database on the session's fakesnow"
        rows = make_rows(500)
        writer.write(rows)
        check_answers(writer, rows)
        with pytest.raises(QueryError, match="NOPE"):
            writer.read("SELECT * FROM CARDIOVASCULAR_DB.SYNTHETIC_DATA.NOPE", 10)
    finally:
        writer.close()


@pytest.mark.parametrize("sql", [
    "INSERT INTO PATIENT_DATA (record_id) VALUES ('x')", "UPDATE PATIENT_DATA SET bmi = 0",
    "DELETE FROM PATIENT_DATA", "CREATE TABLE t (a INT)", "DROP TABLE PATIENT_DATA", "ALTER TABLE x ADD COLUMN y INT",
    "TRUNCATE PATIENT_DATA", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "SELECT 1; DROP TABLE t",
    "COPY PATIENT_DATA TO 'out.csv'", "ATTACH 'other.db'", "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
    "GRANT ALL ON t TO ROLE r", "", ";",
])
def test_statements_that_would_write_are_refused(sql):
    with pytest.raises(ReadOnlyError):
        check_read_only(sql)


@pytest.mark.parametrize("sql", [*SPEC_QUERIES, "WITH a AS (SELECT 1 AS x) SELECT * FROM a", "SHOW TABLES",
                                 "DESCRIBE PATIENT_DATA", "EXPLAIN SELECT 1", "SHOW STAGES LIKE 'X'"])
def test_reads_pass(sql):
    assert check_read_only(sql) == sql.strip().rstrip(";")
