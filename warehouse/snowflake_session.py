"""A Snowflake connection that reconnects and retries transient failures, and keeps its secrets out of messages."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import pyarrow as pa
import snowflake.connector
from pydantic import SecretStr
from snowflake.connector import errors as sf

from warehouse.base import WarehouseError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Failures a new session or a short wait can cure. The connector has already retried each request by
# the time it raises these, so what is left is an outage, an expired session or token, or a suspended warehouse.
_TRANSIENT_CLASSES = (
    sf.OperationalError, sf.InterfaceError, sf.InternalServerError, sf.ServiceUnavailableError,
    sf.GatewayTimeoutError, sf.BadGatewayError, sf.RequestTimeoutError, sf.TooManyRequests,
    sf.OtherHTTPRetryableError, sf.RequestExceedMaxRetryError, sf.TokenExpiredError, sf.PresignedUrlExpiredError,
)
_TRANSIENT_ERRNOS = {
    250001, 250002, 250003,  # could not connect, connection closed, request failed after the connector's retries
    251011, 252007,  # connection timeout, session renewal failed
    390104, 390111, 390112, 390114,  # must log in again, session gone, session expired, token expired
    606,  # no active warehouse: it is suspended or resuming
}
# What a load can raise besides the connector: the local Parquet file, and Arrow's type conversion.
FAILURES = (sf.Error, OSError, pa.ArrowException)


def is_transient(exc: BaseException) -> bool:
    """Whether reconnecting and trying again may succeed."""
    if isinstance(exc, _TRANSIENT_CLASSES):
        return True
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    return getattr(exc, "errno", None) in _TRANSIENT_ERRNOS or sqlstate.startswith("08")  # 08: connection exception


def load_private_key(path: Path, passphrase: SecretStr | None) -> bytes:
    """The PEM key as unencrypted PKCS#8 DER, the form the connector's private_key takes."""
    from cryptography.hazmat.primitives import serialization

    secret = passphrase.get_secret_value().encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=secret)
    except (OSError, ValueError, TypeError) as exc:  # missing file, not a key, wrong or missing passphrase
        reason = str(exc).replace(secret.decode(), "**********") if secret else str(exc)
        raise WarehouseError(f"cannot load the Snowflake private key {path}: {reason}") from None
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class SnowflakeSession:
    """Runs work on a cursor, reconnecting with backoff on transient failures; raises WarehouseError.

    network_timeout bounds both how long the connector retries a request through a network fault and how
    long one statement may run (the connector uses the one value for both), so it also bounds how long an
    outage takes to surface: about attempts x network_timeout.
    """

    def __init__(
        self, connect_args: dict[str, Any], *, password: SecretStr | None = None, private_key_file: Path | None = None,
        private_key_passphrase: SecretStr | None = None, attempts: int = 3, retry_delay: float = 1.0,
        network_timeout: int = 120,
    ):
        self.connect_args = connect_args  # nothing secret: the secrets stay SecretStr until connect()
        self.password = password
        self.private_key_file = private_key_file
        self.private_key_passphrase = private_key_passphrase
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay
        self.network_timeout = network_timeout
        self._con = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SnowflakeSession(account={self.connect_args.get('account')!r}, user={self.connect_args.get('user')!r})"

    def run(self, work: Callable[[Any], T], what: str) -> T:
        """work(cursor), retried on a new session after a transient failure."""
        delay = self.retry_delay
        with self._lock:
            for attempt in range(1, self.attempts + 1):
                try:
                    with self._connection().cursor() as cur:
                        return work(cur)
                except FAILURES as exc:
                    if not is_transient(exc):
                        raise WarehouseError(f"Snowflake {what} failed: {self.redact(exc)}") from None
                    self.reset()
                    if attempt == self.attempts:
                        raise WarehouseError(
                            f"Snowflake {what} failed after {attempt} attempts: {self.redact(exc)}"
                        ) from None
                    logger.warning(
                        "Snowflake %s failed (attempt %d of %d), reconnecting in %.1fs: %s",
                        what, attempt, self.attempts, delay, self.redact(exc),
                    )
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _connection(self):
        if self._con is None:
            # socket_timeout too: a server that accepts connections but never answers (frozen, or a
            # partition) otherwise holds each request for the connector's 60 s socket default.
            args = dict(self.connect_args, login_timeout=self.network_timeout, network_timeout=self.network_timeout,
                        socket_timeout=self.network_timeout)
            if self.private_key_file:
                args["private_key"] = load_private_key(self.private_key_file, self.private_key_passphrase)
            elif self.password:
                args["password"] = self.password.get_secret_value()
            else:
                raise WarehouseError("Snowflake needs SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE")
            self._con = snowflake.connector.connect(**args)
        return self._con

    def reset(self) -> None:
        """Drop the session; the next call logs in again."""
        con, self._con = self._con, None
        if con is not None:
            try:
                con.close(retry=False)  # one try: the server may be the thing that is down
            except Exception:  # noqa: BLE001 - a session we are abandoning may fail to close in any way
                logger.debug("closing a failed Snowflake session raised", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self.reset()

    def redact(self, exc: BaseException | str) -> str:
        """The message with any secret value masked (defence in depth: the connector should never echo them)."""
        text = str(exc)
        for secret in (self.password, self.private_key_passphrase):
            value = secret.get_secret_value() if secret else ""
            if value:
                text = text.replace(value, "**********")
        return text
