"""The model store: atomic, versioned publishing, the LATEST pointer, and sha256-checked loading."""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from models_store import ModelIntegrityError, ModelNotFound, ModelStore, ModelStoreError, validate_model_name
from models_store.store import LATEST_FILE, MANIFEST_FILE, SYNTHESIZER_FILE, sha256_file


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models")


def stage(store: ModelStore, payload: bytes = b"synthesizer bytes"):
    staging = store.staging_dir()
    (staging / SYNTHESIZER_FILE).write_bytes(payload)
    (staging / "metadata.json").write_text("{}")
    return staging


def publish(store: ModelStore, name: str = "cvd", payload: bytes = b"synthesizer bytes", **manifest) -> int:
    return store.publish(name, stage(store, payload), {"method": "gaussian_copula", **manifest})


class _CreatesMarkerWhenUnpickled:
    """Unpickling this calls open(marker, 'w'): a stand-in for any code a tampered pickle could run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# --- publishing ----------------------------------------------------------------------------------


def test_publish_moves_the_staging_dir_into_place_with_a_manifest(store):
    staging = stage(store, b"abc")
    assert staging.parent == store.root / ".staging"  # same filesystem: the rename is atomic

    version = store.publish("cvd", staging, {"method": "ctgan", "rows": 10})

    assert version == 1
    assert not staging.exists()  # renamed, not copied
    target = store.root / "cvd" / "1"
    assert sorted(p.name for p in target.iterdir()) == sorted([SYNTHESIZER_FILE, "metadata.json", MANIFEST_FILE])
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    assert manifest["name"] == "cvd"
    assert manifest["version"] == 1
    assert manifest["method"] == "ctgan" and manifest["rows"] == 10
    assert manifest["synthesizer_sha256"] == sha256_file(target / SYNTHESIZER_FILE)
    assert store.manifest("cvd") == manifest
    assert list((store.root / ".staging").iterdir()) == []


def test_versions_increment_and_latest_points_to_the_newest(store):
    assert [publish(store) for _ in range(3)] == [1, 2, 3]
    assert store.versions("cvd") == [1, 2, 3]
    assert (store.root / "cvd" / LATEST_FILE).read_text() == "3"
    assert store.latest("cvd") == 3
    assert store.resolve("cvd", "latest") == 3
    assert store.resolve("cvd") == 3
    assert store.resolve("cvd", 2) == 2
    assert store.resolve("cvd", "2") == 2
    assert store.list() == [{"name": "cvd", "latest_version": 3, "versions": [1, 2, 3]}]


def test_publish_without_make_latest_keeps_the_pointer(store):
    publish(store)
    version = store.publish("cvd", stage(store), {"method": "tvae"}, make_latest=False)
    assert version == 2
    assert store.latest("cvd") == 1
    assert store.manifest("cvd", "latest")["version"] == 1


def test_models_are_versioned_independently(store):
    publish(store, "a")
    publish(store, "a")
    assert publish(store, "b") == 1
    assert store.names() == ["a", "b"]
    assert [m["name"] for m in store.list()] == ["a", "b"]


def test_publish_refuses_a_staging_dir_without_synthesizer(store):
    staging = store.staging_dir()
    with pytest.raises(ModelStoreError, match="no synthesizer file"):
        store.publish("cvd", staging, {})
    assert store.versions("cvd") == []


def test_a_version_dir_without_manifest_does_not_block_publishing(store):
    # e.g. left behind by hand; it is not a version, but its number must not be handed out again
    (store.root / "cvd" / "1").mkdir(parents=True)
    (store.root / "cvd" / "1" / "leftover").write_text("x")
    assert store.versions("cvd") == []
    version = publish(store)
    assert version == 2
    assert store.versions("cvd") == [2]
    assert (store.root / "cvd" / "1" / "leftover").read_text() == "x"


# --- resolving and deleting ----------------------------------------------------------------------


def test_missing_models_and_versions_are_not_found(store):
    with pytest.raises(ModelNotFound, match="'cvd' not found"):
        store.resolve("cvd")
    publish(store)
    with pytest.raises(ModelNotFound, match="no version 7"):
        store.resolve("cvd", 7)
    with pytest.raises(ModelNotFound, match="no version 'newest'"):
        store.resolve("cvd", "newest")
    with pytest.raises(ModelNotFound):
        store.manifest("other")
    assert store.exists("cvd") and not store.exists("other")


def test_deleting_the_latest_version_moves_latest_back(store):
    for _ in range(3):
        publish(store)
    store.delete("cvd", 3)
    assert store.versions("cvd") == [1, 2]
    assert store.latest("cvd") == 2
    assert store.resolve("cvd", "latest") == 2
    assert (store.root / "cvd" / LATEST_FILE).read_text() == "2"
    assert not (store.root / "cvd" / "3").exists()
    with pytest.raises(ModelNotFound):
        store.resolve("cvd", 3)


def test_deleting_an_older_version_keeps_latest(store):
    for _ in range(3):
        publish(store)
    store.delete("cvd", 1)
    assert store.versions("cvd") == [2, 3]
    assert store.latest("cvd") == 3


def test_deleting_the_last_version_removes_the_model(store):
    publish(store)
    store.delete("cvd", 1)
    assert not store.exists("cvd")
    assert store.names() == []
    with pytest.raises(ModelNotFound):
        store.latest("cvd")


def test_deleting_a_missing_version_is_not_found(store):
    publish(store)
    with pytest.raises(ModelNotFound):
        store.delete("cvd", 2)
    assert store.versions("cvd") == [1]


def test_a_stale_latest_pointer_falls_back_to_the_newest_version(store):
    publish(store)
    publish(store)
    (store.root / "cvd" / LATEST_FILE).write_text("9")
    assert store.latest("cvd") == 2
    (store.root / "cvd" / LATEST_FILE).write_text("garbage")
    assert store.latest("cvd") == 2


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cvd", "CVD_2", "a-b", "x" * 64, "0"])
def test_valid_model_names(name):
    assert validate_model_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * 65, "../evil", "a/b", "a\\b", ".", "..", "a b", "naïve", "a\x00b", "cvd\n", None, 7]
)
def test_invalid_model_names_are_rejected(store, name):
    with pytest.raises(ModelStoreError, match="invalid model name"):
        validate_model_name(name)
    with pytest.raises(ModelStoreError, match="invalid model name"):
        store.publish(name, stage(store), {})
    with pytest.raises(ModelStoreError, match="invalid model name"):
        store.versions(name)
    assert not any(p.name != ".staging" for p in store.root.iterdir())


def test_directories_with_invalid_names_are_not_listed(store):
    publish(store)
    (store.root / "not a model").mkdir()
    assert store.names() == ["cvd"]


# --- loading -------------------------------------------------------------------------------------


def test_load_returns_the_synthesizer_when_the_file_is_intact(store):
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    df = pd.DataFrame({"age": list(range(20)), "sex": ["F", "M"] * 10})
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframes({"records": df}))
    synthesizer.fit({"records": df})
    staging = store.staging_dir()
    synthesizer.save(str(staging / SYNTHESIZER_FILE))
    version = store.publish("tiny", staging, {"method": "gaussian_copula"})

    loaded = store.load("tiny", version)

    assert isinstance(loaded, GaussianCopulaSynthesizer)
    sampled = loaded.sample(5)
    sampled = sampled["records"] if isinstance(sampled, dict) else sampled
    assert list(sampled.columns) == ["age", "sex"]


def test_a_changed_synthesizer_file_is_refused_and_never_unpickled(store, tmp_path):
    marker = tmp_path / "unpickled.marker"
    evil = pickle.dumps(_CreatesMarkerWhenUnpickled(marker))
    # the payload is live: unpickling it does create the marker
    probe = tmp_path / "probe.marker"
    pickle.loads(pickle.dumps(_CreatesMarkerWhenUnpickled(probe))).close()
    assert probe.exists()

    version = publish(store, payload=b"the file the store wrote")
    (store.version_dir("cvd", version) / SYNTHESIZER_FILE).write_bytes(evil)

    with pytest.raises(ModelIntegrityError) as raised:
        store.load("cvd", version)

    message = str(raised.value)
    assert "'cvd' version 1" in message
    assert "sha256" in message and "does not match the manifest" in message
    assert not marker.exists()
    with pytest.raises(ModelIntegrityError):
        store.load("cvd")  # through 'latest' too
    assert not marker.exists()


def test_a_missing_synthesizer_file_is_an_integrity_error(store):
    version = publish(store)
    (store.version_dir("cvd", version) / SYNTHESIZER_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="synthesizer file is missing"):
        store.load("cvd", version)


def test_a_manifest_without_checksum_is_refused(store):
    version = publish(store)
    path = store.version_dir("cvd", version) / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    del manifest["synthesizer_sha256"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="does not match the manifest"):
        store.synthesizer_path("cvd", version)


def test_a_deleted_version_number_is_never_reused(store):
    # warehouse rows carry model_version: a new model must not take an old model's number
    publish(store), publish(store)
    store.delete("cvd", 2)
    assert publish(store) == 3
    store.delete("cvd", 3)
    store.delete("cvd", 1)
    assert publish(store) == 4
