"""Kafka security settings become the same client options for Faust and aiokafka."""

from __future__ import annotations

import ssl

import certifi
import faust
import pytest

from broker.security import client_options, faust_credentials
from worker.settings import Settings


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_plaintext_needs_nothing():
    s = settings()
    assert client_options(s) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(s) is None


def test_sasl_scram_over_ssl():
    s = settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                 kafka_sasl_username="svc", kafka_sasl_password="s3cret", kafka_ssl_cafile=certifi.where())
    options = client_options(s)
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "svc" and options["sasl_plain_password"] == "s3cret"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    credentials = faust_credentials(s)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "svc"
    assert "s3cret" not in repr(s)


def test_sasl_without_credentials_names_the_settings():
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        client_options(settings(kafka_security_protocol="SASL_PLAINTEXT"))


def test_ssl_only():
    s = settings(kafka_security_protocol="SSL", kafka_ssl_cafile=certifi.where())
    assert isinstance(client_options(s)["ssl_context"], ssl.SSLContext)
    assert isinstance(faust_credentials(s), faust.SSLCredentials)
