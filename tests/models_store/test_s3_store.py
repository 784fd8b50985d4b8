"""The model store at an s3:// URL, on a real moto S3 server: the local store's guarantees on object storage."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

from models_store import ModelIntegrityError, ModelNotFound, ModelStore, ModelStoreError, open_store, store_from_settings
from models_store.base import LATEST_FILE, MANIFEST_FILE, SYNTHESIZER_FILE
from models_store.objects import raise_to
from models_store.remote import CLAIM_FILE, RemoteModelStore
from worker.settings import Settings
from tests.models_store.moto_s3 import KEY_ID, SECRET, start_moto
from tests.models_store.test_store import _CreatesMarkerWhenUnpickled


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def url(s3):
    return f"s3://{s3.new_bucket()}/models"


@pytest.fixture
def store(s3, url, tmp_path) -> RemoteModelStore:
    return RemoteModelStore(url, s3.storage_options, tmp_path / "cache")


def another_worker(s3, url, tmp_path, name="other") -> RemoteModelStore:
    """The same store as a second worker sees it: its own client and its own local cache."""
    return RemoteModelStore(url, s3.storage_options, tmp_path / f"cache-{name}")


def stage(store, payload: bytes = b"synthesizer bytes", report: dict | None = None):
    staging = store.staging_dir()
    (staging / SYNTHESIZER_FILE).write_bytes(payload)
    (staging / "metadata.json").write_text("{}")
    if report is not None:
        (staging / "report.json").write_text(json.dumps(report))
    return staging


def publish(store, name: str = "cvd", payload: bytes = b"synthesizer bytes", **manifest) -> int:
    return store.publish(name, stage(store, payload), {"method": "gaussian_copula", **manifest})


def keys(s3, url: str) -> list[str]:
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    listed = s3.client().list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return sorted(o["Key"].removeprefix(prefix + "/") for o in listed.get("Contents", []))


def fit_tiny():
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    df = pd.DataFrame({"age": list(range(20)), "sex": ["F", "M"] * 10})
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframes({"records": df}))
    synthesizer.fit({"records": df})
    return synthesizer


# --- publishing ----------------------------------------------------------------------------------


def test_publish_uploads_the_version_with_its_manifest(s3, url, store):
    staging = stage(store, b"abc", report={"score": 0.9})

    version = store.publish("cvd", staging, {"method": "ctgan", "rows": 10})

    assert version == 1
    assert not staging.exists()
    assert keys(s3, url) == ["cvd/1/.claim", "cvd/1/manifest.json", "cvd/1/metadata.json", "cvd/1/report.json",
                             "cvd/1/synthesizer.pkl", "cvd/LAST_VERSION", "cvd/LATEST"]
    body = s3.client().get_object(Bucket=url.split("/")[2], Key="models/cvd/1/manifest.json")["Body"]
    manifest = json.loads(body.read())
    assert manifest["name"] == "cvd" and manifest["version"] == 1 and manifest["rows"] == 10
    assert manifest["synthesizer_sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert store.manifest("cvd") == manifest
    assert store.report("cvd", 1) == {"score": 0.9}
    assert store.version_dir("cvd", 1) == f"{url}/cvd/1"


def test_versions_increment_and_latest_points_to_the_newest(url, store, s3, tmp_path):
    assert [publish(store) for _ in range(3)] == [1, 2, 3]
    other = another_worker(s3, url, tmp_path)  # what one worker publishes, another lists at once
    for seen in (store, other):
        assert seen.versions("cvd") == [1, 2, 3]
        assert seen.latest("cvd") == 3
        assert seen.resolve("cvd", "latest") == 3 and seen.resolve("cvd", "2") == 2
        assert seen.list() == [{"name": "cvd", "latest_version": 3, "versions": [1, 2, 3]}]
        assert seen.names() == ["cvd"] and seen.exists("cvd") and not seen.exists("other")
    with pytest.raises(ModelNotFound, match="no version 7"):
        other.resolve("cvd", 7)
    with pytest.raises(ModelNotFound, match="no evaluation report"):
        other.report("cvd", 3)


def test_publish_without_make_latest_keeps_the_pointer(store):
    publish(store)
    assert store.publish("cvd", stage(store), {"method": "tvae"}, make_latest=False) == 2
    assert store.latest("cvd") == 1


def test_publish_refuses_a_staging_dir_without_synthesizer(store):
    with pytest.raises(ModelStoreError, match="no synthesizer file"):
        store.publish("cvd", store.staging_dir(), {})
    assert store.versions("cvd") == []


def test_invalid_model_names_are_rejected(s3, url, store):
    for name in ("../evil", "a/b", ""):
        with pytest.raises(ModelStoreError, match="invalid model name"):
            store.publish(name, stage(store), {})
    assert keys(s3, url) == []


def test_a_number_someone_else_claimed_is_skipped(s3, url, store):
    # a worker that died after claiming 1 (or is still uploading it): 1 is not a version and is not handed out
    bucket = url.split("/")[2]
    s3.client().put_object(Bucket=bucket, Key=f"models/cvd/1/{CLAIM_FILE}", Body=b"{}")
    assert store.versions("cvd") == []
    assert publish(store) == 2
    assert store.versions("cvd") == [2]


def test_two_workers_publishing_at_once_get_distinct_versions(s3, url, store, tmp_path):
    workers = [store, another_worker(s3, url, tmp_path, "b"), another_worker(s3, url, tmp_path, "c")]
    results: list[tuple[int, bytes]] = []
    errors = []

    def run(worker, tag: str) -> None:
        try:
            for i in range(4):
                payload = f"{tag}-{i}".encode()
                results.append((publish(worker, payload=payload), payload))
        except Exception as exc:  # a thread's failure is asserted on below, not lost
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w, f"w{n}")) for n, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(v for v, _ in results) == list(range(1, 13))
    for version, payload in results:  # each version holds the synthesizer of the publish that got its number
        assert store.manifest("cvd", version)["synthesizer_sha256"] == hashlib.sha256(payload).hexdigest()
    assert store.fs.cat_file(f"{store.root}/cvd/{LATEST_FILE}") == b"12"
    assert store.latest("cvd") == 12  # LATEST only moves forward, whichever publish finished last


def test_the_pointer_only_moves_forward(store):
    path = f"{store.root}/cvd/{LATEST_FILE}"
    raise_to(store.fs, path, 3, s3=True)
    raise_to(store.fs, path, 2, s3=True)
    assert store.fs.cat_file(path) == b"3"
    raise_to(store.fs, path, 5, s3=True)
    assert store.fs.cat_file(path) == b"5"


# --- deleting ------------------------------------------------------------------------------------


def test_deleting_the_latest_version_moves_latest_back(s3, url, store):
    for _ in range(3):
        publish(store)
    store.delete("cvd", 3)
    assert store.versions("cvd") == [1, 2]
    assert store.latest("cvd") == 2
    assert "cvd/3/manifest.json" not in keys(s3, url) and "cvd/3/synthesizer.pkl" not in keys(s3, url)
    with pytest.raises(ModelNotFound):
        store.resolve("cvd", 3)
    store.delete("cvd", 1)
    assert store.versions("cvd") == [2] and store.latest("cvd") == 2


def test_deleting_the_last_version_removes_the_model(s3, url, store):
    publish(store)
    store.delete("cvd", 1)
    assert not store.exists("cvd") and store.names() == [] and store.list() == []
    assert "cvd/LATEST" not in keys(s3, url)
    with pytest.raises(ModelNotFound):
        store.latest("cvd")
    with pytest.raises(ModelNotFound):
        store.delete("cvd", 1)


def test_a_deleted_version_number_is_never_reused(s3, url, store, tmp_path):
    publish(store), publish(store)
    store.delete("cvd", 2)
    assert publish(store) == 3
    store.delete("cvd", 3)
    store.delete("cvd", 1)
    # a worker that never saw those versions does not hand their numbers out either
    assert publish(another_worker(s3, url, tmp_path)) == 4
    assert f"cvd/3/{CLAIM_FILE}" in keys(s3, url)  # the tombstone that keeps 3 taken


# --- loading -------------------------------------------------------------------------------------


def test_another_worker_loads_the_synthesizer_through_its_cache(s3, url, store, tmp_path):
    from sdv.single_table import GaussianCopulaSynthesizer

    staging = store.staging_dir()
    fit_tiny().save(str(staging / SYNTHESIZER_FILE))
    version = store.publish("tiny", staging, {"method": "gaussian_copula"})
    sha256 = store.manifest("tiny", version)["synthesizer_sha256"]
    other = another_worker(s3, url, tmp_path)
    cached = tmp_path / "cache-other" / "sha256" / f"{sha256}.pkl"
    assert not cached.exists()

    loaded = other.load("tiny", version)

    assert isinstance(loaded, GaussianCopulaSynthesizer)
    sampled = loaded.sample(5)
    assert list((sampled["records"] if isinstance(sampled, dict) else sampled).columns) == ["age", "sex"]
    assert cached.is_file()  # downloaded once, kept by its sha256
    # a later load is served from the cache: it works with the object gone from the bucket
    s3.client().delete_object(Bucket=url.split("/")[2], Key=f"models/tiny/{version}/{SYNTHESIZER_FILE}")
    assert isinstance(other.load("tiny", version), GaussianCopulaSynthesizer)
    # the publishing worker kept what it wrote in its own cache: no download there either
    assert isinstance(store.load("tiny", version), GaussianCopulaSynthesizer)


def test_a_changed_cache_file_is_downloaded_again(s3, url, store, tmp_path):
    version = publish(store, payload=b"the file the store wrote")
    path = store.synthesizer_path("cvd", version)
    path.write_bytes(b"changed on this disk")
    assert store.synthesizer_path("cvd", version).read_bytes() == b"the file the store wrote"


def test_a_changed_synthesizer_object_is_refused_and_never_unpickled(s3, url, store, tmp_path):
    marker = tmp_path / "unpickled.marker"
    evil = pickle.dumps(_CreatesMarkerWhenUnpickled(marker))
    probe = tmp_path / "probe.marker"
    pickle.loads(pickle.dumps(_CreatesMarkerWhenUnpickled(probe))).close()
    assert probe.exists()  # the payload is live: unpickling it does create the marker

    version = publish(store, payload=b"the file the store wrote")
    s3.client().put_object(Bucket=url.split("/")[2], Key=f"models/cvd/{version}/{SYNTHESIZER_FILE}", Body=evil)
    other = another_worker(s3, url, tmp_path)

    with pytest.raises(ModelIntegrityError) as raised:
        other.load("cvd", version)

    message = str(raised.value)
    assert "'cvd' version 1" in message
    assert "sha256" in message and "does not match the manifest" in message
    assert not marker.exists()
    assert list((tmp_path / "cache-other" / "sha256").iterdir()) == []  # not kept either
    with pytest.raises(ModelIntegrityError):
        other.load("cvd")  # through 'latest' too
    assert not marker.exists()


def test_a_missing_synthesizer_object_is_an_integrity_error(s3, url, store, tmp_path):
    version = publish(store)
    s3.client().delete_object(Bucket=url.split("/")[2], Key=f"models/cvd/{version}/{SYNTHESIZER_FILE}")
    with pytest.raises(ModelIntegrityError, match="synthesizer file is missing"):
        another_worker(s3, url, tmp_path).load("cvd", version)


def test_a_manifest_without_checksum_is_refused(s3, url, store, tmp_path):
    version = publish(store)
    key = f"models/cvd/{version}/{MANIFEST_FILE}"
    manifest = json.loads(s3.client().get_object(Bucket=url.split("/")[2], Key=key)["Body"].read())
    del manifest["synthesizer_sha256"]
    s3.client().put_object(Bucket=url.split("/")[2], Key=key, Body=json.dumps(manifest).encode())
    with pytest.raises(ModelIntegrityError, match="no valid synthesizer sha256"):
        another_worker(s3, url, tmp_path).synthesizer_path("cvd", version)


def _sample_in_pool(location: str, name: str, version: int) -> list[str]:
    from synthesis.sampling import sample_frame

    return list(sample_frame(location, name, version, 5, seed=1).columns)


def test_a_spawned_sampling_process_gets_the_store_with_its_options(s3, url, store, monkeypatch):
    # the pool process has no S3 settings in its environment: it must get them from the worker
    for var in ("MODELS_S3_ENDPOINT_URL", "MODELS_S3_ACCESS_KEY_ID", "MODELS_S3_SECRET_ACCESS_KEY",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    from synthesis.process import init_sampling

    staging = store.staging_dir()
    fit_tiny().save(str(staging / SYNTHESIZER_FILE))
    version = store.publish("tiny", staging, {"method": "gaussian_copula"})
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=init_sampling,
                             initargs=(store,)) as pool:
        assert pool.submit(_sample_in_pool, url, "tiny", version).result(timeout=120) == ["age", "sex"]


# --- settings and health -------------------------------------------------------------------------


def test_settings_name_an_s3_store_with_its_options(s3, url, tmp_path):
    settings = Settings(models_dir=url, state_dir=tmp_path / "state", **{k.lower(): v for k, v in s3.env.items()})
    assert settings.models_dir == url  # a URL stays a URL (a Path would fold s3:// into s3:/)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())

    store = store_from_settings(settings)

    assert isinstance(store, RemoteModelStore)
    assert store.cache_dir == tmp_path / "state" / "model-cache"
    assert store.storage_options["key"] == KEY_ID and store.storage_options["secret"] == SECRET
    assert SECRET not in repr(store)
    assert open_store(url) is store  # what pool processes and jobs open by the URL alone
    publish(store)
    assert store.versions("cvd") == [1]


def test_a_local_path_is_still_the_local_store(tmp_path):
    settings = Settings(models_dir=str(tmp_path / "models"))
    store = store_from_settings(settings)
    assert type(store) is ModelStore and store.root == tmp_path / "models"


def test_check_says_when_the_bucket_is_missing(s3, store):
    store.check()
    missing = RemoteModelStore("s3://no-such-bucket-here/models", s3.storage_options, store.cache_dir)
    with pytest.raises(ModelStoreError, match="cannot list the model store s3://no-such-bucket-here/models"):
        missing.check()


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_other_fsspec_urls_work_the_same(scheme, tmp_path):
    location = f"memory://models-{tmp_path.name}" if scheme == "memory" else f"file://{tmp_path}/remote"
    store = open_store(location, {}, tmp_path / "cache")
    assert [publish(store) for _ in range(2)] == [1, 2]
    store.delete("cvd", 2)
    assert publish(store) == 3 and store.versions("cvd") == [1, 3] and store.latest("cvd") == 3
    assert store.synthesizer_path("cvd", 3).read_bytes() == b"synthesizer bytes"
