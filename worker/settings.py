"""The one place that reads configuration: environment variables and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict



class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", validate_default=True)

    # --- service -----------------------------------------------------------------------------
    app_id: str = Field("cardiosynth", description="Faust app id: consumer group and topic prefix.")
    web_host: str = Field("127.0.0.1", description="Interface the HTTP API binds to (0.0.0.0 in containers).")
    web_port: int = Field(8000, description="Port of the HTTP API.")
    data_dir: Path = Field(Path("data"), description="Datasets live here; dataset_path must stay inside it.")
    state_dir: Path = Field(Path("var"), description="Worker state: Faust data dir, broker log, DuckDB file.")
    demo_on_start: bool = Field(False, description="Train a model if none exists and stream a demo batch on start.")
    demo_rows: int = Field(10_000, description="Rows the start-up demo streams.")
    stop_wait_seconds: float = Field(
        3.0, description="Longest wait, when a worker stops, for events in progress (others redo what is left)."
    )
    stop_timeout_seconds: float = Field(
        8.0, description="Longest a stop takes: past it the worker exits at once (e.g. the broker is unreachable)."
    )

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "", description="host:port[,host:port]; empty starts the embedded Tansu broker."
    )
    embedded_broker_port: int = Field(19092, description="Port of the embedded broker.")
    topic_partitions: int = Field(4, description="Partitions of every app topic (the most workers that share work).")
    topic_replication_factor: int = Field(1, description="Replication factor for topics the app creates.")
    control_topic: str = Field("cardiosynth-control", description="Commands: train, generate, stream, cancel.")
    generation_topic: str = Field("generation-requests", description="Chunks of generation work.")
    status_topic: str = Field("cardiosynth-status", description="Status events every worker folds into its status view.")
    records_topic: str = Field("cardiovascular-data", description="Synthetic records, JSON, keyed by record_id.")
    dlq_topic: str = Field("cardiovascular-data-dlq", description="Records and commands that failed validation.")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How clients talk to the brokers."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (with SASL_PLAINTEXT or SASL_SSL)."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers' certificates.")
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    kafka_ssl_keyfile: Path | None = Field(None, description="Client private key (mutual TLS).")
    records_retention_hours: int = Field(
        168, ge=1, description="Hours the broker keeps records and dead letters (retention.ms of topics it creates)."
    )
    topic_check_seconds: float = Field(
        5.0, description="How often a worker checks that the app's topics exist and re-creates lost ones."
    )
    rebalance_timeout: float = Field(
        2.0, description="Seconds a consumer-group join waits for members (low for one laptop)."
    )
    session_timeout: float = Field(10.0, description="Seconds before a silent worker is dropped from the group.")

    # --- models ------------------------------------------------------------------------------
    models_dir: Path | str = Field(
        Path("models"), description="Model store: a local folder, or an fsspec URL such as s3://bucket/models."
    )
    models_s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint, e.g. http://minio:9000 (MinIO, moto); unset for AWS S3."
    )
    models_s3_region: str | None = Field(None, description="Region of the models bucket; unset: the AWS SDK's default.")
    models_s3_access_key_id: str | None = Field(
        None, description="S3 access key id; unset: the AWS SDK's chain (env, profile, instance role)."
    )
    models_s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret access key.")
    models_cache_dir: Path | None = Field(
        None, description="Local copies of synthesizers loaded from a URL store; default <state_dir>/model-cache."
    )
    default_model: str = Field(
        "cvd", description="Model name /train uses when a request names none (generation uses the newest model)."
    )
    default_method: str = Field("cart", description="Method used when /train names none.")
    epochs_method: str = Field(
        "ctgan", description="Method /train uses when a request sends epochs, no method, and DEFAULT_METHOD has no epochs."
    )
    default_dataset: str = Field("cvd_sample_3463.csv", description="Dataset used when /train names none.")
    holdout_fraction: float = Field(0.2, description="Share of a dataset held out of training to evaluate on.")
    max_bad_row_share: float = Field(
        0.01, ge=0.0, le=1.0,
        description="Malformed rows (wrong field count, wrong type, typo levels) a dataset may have: they are dropped "
                    "and listed; more fails the training.",
    )
    training_processes: int = Field(1, description="Trainings that run at once (each in its own process).")
    sampling_processes: int = Field(1, description="Processes that sample records for this worker.")
    pool_niceness: int = Field(
        10, ge=0, le=19, description="Niceness of training and sampling processes: the API stays responsive."
    )
    enable_gpu: bool = Field(True, description="Train CTGAN/TVAE/CopulaGAN on a CUDA GPU when one is present.")
    max_epochs: int = Field(5_000, description="Largest epochs value /train accepts.")

    # --- generation --------------------------------------------------------------------------
    chunk_size: int = Field(
        20_000, description="Rows per generation chunk: the unit of parallel sampling (sized by benchmarks/stream_bench.py)."
    )
    max_inline_samples: int = Field(100_000, description="Largest num_samples returned in a response.")
    max_stream_samples: int = Field(10_000_000, description="Largest num_samples of a stream.")
    heartbeat_seconds: float = Field(5.0, description="How often a worker confirms a training or stream is alive.")
    heartbeat_timeout: float = Field(30.0, description="Silence after which another worker takes a task over.")
    backpressure_max_wait: float = Field(10.0, description="Longest wait for sent chunks before scheduling on.")
    max_chunks_ahead: int = Field(8, description="Chunks a stream may schedule beyond those sent (backpressure).")

    # --- warehouse ---------------------------------------------------------------------------
    warehouse: Literal["duckdb", "snowflake"] = Field("duckdb", description="Where records land.")
    duckdb_path: Path | None = Field(None, description="DuckDB file; default <state_dir>/warehouse.duckdb.")
    warehouse_table: str = Field("PATIENT_DATA", description="Table the records land in.")
    sink_batch_size: int = Field(5_000, description="Records per warehouse write at most.")
    sink_batch_seconds: float = Field(1.0, description="Seconds a partial batch waits before it is written.")
    sink_retry_max_seconds: float = Field(30.0, description="Longest pause between retries of a failed write.")
    sink_kill_before_commit: int = Field(
        0, ge=0, description="For fault tests only: after writing its Nth batch and reporting it on the status "
        "topic, the sink kills its own worker (SIGKILL) before committing the batch's offsets. 0: never."
    )
    duckdb_release_seconds: float = Field(
        1.0, description="Idle seconds after which the worker closes the DuckDB file so other processes may open it."
    )
    warehouse_check_seconds: float = Field(
        1.0, description="How long /health reuses a warehouse check (concurrent requests share one)."
    )
    warehouse_read_seconds: float = Field(
        2.0, ge=0, description="How long GET /warehouse/summary and /warehouse/records reuse an answer "
        "(concurrent requests share one query)."
    )

    # --- Snowflake ---------------------------------------------------------------------------
    snowflake_account: str = Field("", description="Account identifier, e.g. myorg-myaccount (WAREHOUSE=snowflake).")
    snowflake_user: str = Field("", description="User the writer logs in as.")
    snowflake_password: SecretStr | None = Field(None, description="Password; leave unset for key-pair auth.")
    snowflake_private_key_file: Path | None = Field(None, description="PEM private key for key-pair auth.")
    snowflake_private_key_passphrase: SecretStr | None = Field(None, description="Passphrase of an encrypted key.")
    snowflake_role: str | None = Field(None, description="Role of the session; default: the user's default role.")
    snowflake_warehouse: str | None = Field(None, description="Virtual warehouse that runs the loads.")
    snowflake_database: str = Field("CARDIOVASCULAR_DB", description="Database, created when missing.")
    snowflake_schema: str = Field("SYNTHETIC_DATA", description="Schema, created when missing.")
    snowflake_table: str = Field("PATIENT_DATA", description="Table the records land in on Snowflake.")
    snowflake_host: str | None = Field(None, description="Endpoint override, e.g. localhost for a fakesnow server.")
    snowflake_port: int | None = Field(None, description="Port override of a compatible endpoint.")
    snowflake_protocol: Literal["https", "http"] | None = Field(
        None, description="Protocol override (http for fakesnow)."
    )
    snowflake_network_timeout: int = Field(
        120, description="Seconds a Snowflake login, request or statement may take before the writer reconnects."
    )

    @field_validator(
        "snowflake_password", "snowflake_private_key_file", "snowflake_private_key_passphrase", "snowflake_role",
        "snowflake_warehouse", "snowflake_host", "snowflake_port", "snowflake_protocol", mode="before",
    )
    @classmethod
    def _empty_snowflake_is_unset(cls, value):
        # `SNOWFLAKE_PORT=` in a .env file means "not set", not "" (an invalid port) or Path("") (the cwd).
        return None if value == "" else value

    @field_validator("models_dir", mode="before")
    @classmethod
    def _local_path_or_url(cls, value):
        # a URL stays a string: Path("s3://bucket/models") would fold the "//" into one slash
        return value if isinstance(value, str) and "://" in value else Path(value)

    @field_validator("data_dir", "state_dir", "models_dir", "duckdb_path", "models_cache_dir", mode="after")
    @classmethod
    def _from_the_working_directory(cls, value):
        # relative folders are the working directory's (where `make run` or the container starts the worker),
        # fixed when the settings are read, so a later chdir cannot move them
        return Path.cwd() / value if isinstance(value, Path) and not value.is_absolute() else value

    @field_validator(
        "models_s3_endpoint_url", "models_s3_region", "models_s3_access_key_id", "models_s3_secret_access_key",
        "models_cache_dir", mode="before",
    )
    @classmethod
    def _empty_model_store_option_is_unset(cls, value):
        return None if value == "" else value

    # --- limits ------------------------------------------------------------------------------
    max_body_bytes: int = Field(1_048_576, description="Largest request body the API accepts.")
    api_token: SecretStr | None = Field(None, description="When set, changing endpoints need 'Bearer <token>'.")
    api_token_for_reads: bool = Field(False, description="With API_TOKEN set, reads need the token too.")
    max_expensive_requests_per_client: int = Field(
        4, description="Inline generations and trainings one client may have in flight (more get 429)."
    )

    @field_validator(
        "api_token", "kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_cafile", "kafka_ssl_certfile",
        "kafka_ssl_keyfile", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value):
        return None if value == "" else value

    @property
    def broker_url(self) -> str:
        servers = self.kafka_bootstrap_servers or f"127.0.0.1:{self.embedded_broker_port}"
        return ";".join(f"kafka://{s.strip()}" for s in servers.split(",") if s.strip())

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.embedded_broker_port}"

    @property
    def uses_embedded_broker(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def topic_names(self) -> list[str]:
        """Every topic of the app: control and its dead letters, generation, status, records and their dead letters."""
        return [self.control_topic, f"{self.control_topic}-dlq", self.generation_topic, self.status_topic,
                self.records_topic, self.dlq_topic]

    @property
    def duckdb_file(self) -> Path:
        return self.duckdb_path or self.state_dir / "warehouse.duckdb"

    @property
    def models_cache_path(self) -> Path:
        return self.models_cache_dir or self.state_dir / "model-cache"


@lru_cache
def get_settings() -> Settings:
    """Settings are read once per process."""
    return Settings()
