"""The method registry: each method trains on the sample and reports its epochs; parameters are validated."""

from __future__ import annotations

import json

import pytest

import synthesis.training
from models_store import ModelStore
from models_store.store import sha256_file
from tests.harness import ROOT
from synthesis.datasets import read_dataset
from synthesis.methods import DEFAULT_FIT_ROWS, METHODS, ParameterError, get_method
from synthesis.training import train_model

DATASET = ROOT / "data" / "cvd_sample_3463.csv"
EPOCHS = 2


class ProgressRecorder:
    """Stands in for the multiprocessing queue the training pool reports through."""

    def __init__(self):
        self.events: list[dict] = []

    def put(self, item: dict) -> None:
        self.events.append(item)

    @property
    def messages(self) -> list[str]:
        return [e["message"] for e in self.events]


@pytest.fixture
def progress(monkeypatch):
    recorder = ProgressRecorder()
    monkeypatch.setattr(synthesis.training, "_progress_queue", recorder)
    return recorder


def job_for(method: str, models_dir, **extra) -> dict:
    epochs = METHODS[method].epochs is not None
    return {
        "task_id": f"task-{method}",
        "dataset_file": str(DATASET),
        "dataset_path": DATASET.name,
        "model_name": f"m_{method}",
        "method": method,
        "epochs": EPOCHS if epochs else None,
        "parameters": {"batch_size": 500} if epochs else {},
        "models_dir": str(models_dir),
        "enable_gpu": False,
        **extra,
    }


def test_the_registry_has_every_method():
    assert sorted(METHODS) == ["arf", "cart", "copulagan", "ctgan", "gaussian_copula", "mst", "tvae"]
    assert all(METHODS[m].epochs is None for m in ("cart", "arf", "mst", "gaussian_copula"))
    assert all(METHODS[m].epochs for m in ("ctgan", "tvae", "copulagan"))


@pytest.mark.parametrize("method", ["cart", "arf", "mst", "gaussian_copula", "ctgan", "tvae", "copulagan"])
def test_each_method_trains_and_publishes_a_manifest(method, tmp_path, progress):
    manifest = train_model(job_for(method, tmp_path / "models"))

    store = ModelStore(tmp_path / "models")
    name = f"m_{method}"
    assert manifest == store.manifest(name)
    assert manifest["name"] == name and manifest["version"] == 1
    assert manifest["method"] == method
    assert manifest["rows"] == 3463
    assert manifest["dataset_path"] == DATASET.name
    expected_columns = list(read_dataset(DATASET).columns)
    assert [c["name"] for c in manifest["columns"]] == expected_columns
    assert "height_cm" in expected_columns and "fried_potato_consumption" in expected_columns
    by_name = {c["name"]: c for c in manifest["columns"]}
    assert by_name["sex"]["sdtype"] == "categorical" and by_name["sex"]["categories"] == ["Female", "Male"]
    assert by_name["bmi"]["sdtype"] == "numerical" and by_name["bmi"]["min"] < by_name["bmi"]["max"]
    pkl = store.version_dir(name, 1) / "synthesizer.pkl"
    assert manifest["synthesizer_sha256"] == sha256_file(pkl)
    assert manifest["device"] == "cpu"
    assert manifest["task_id"] == f"task-{method}"

    assert {e["task_id"] for e in progress.events} == {f"task-{method}"}
    values = [e["progress"] for e in progress.events]
    assert values == sorted(values)
    assert values[-1] == 100 and progress.messages[-1] == "completed"
    epoch_messages = [m for m in progress.messages if m.startswith("epoch ")]
    if METHODS[method].epochs is None:
        assert epoch_messages == []
        # the method's recorded defaults too: an mst model always names the epsilon it guarantees
        assert manifest["parameters"] == {"fit_rows": DEFAULT_FIT_ROWS, **METHODS[method].defaults}
    else:
        # one event per epoch actually completed, in order, not the configured default of 300
        assert epoch_messages == [f"epoch {i}/{EPOCHS}" for i in range(1, EPOCHS + 1)]
        assert manifest["parameters"]["epochs"] == EPOCHS
        assert manifest["parameters"]["batch_size"] == 500
        assert manifest["parameters"]["fit_rows"] == DEFAULT_FIT_ROWS
    assert 0 < manifest["fit_seconds"] <= manifest["training_seconds"]

    # the evaluation stored with the version: every score in range
    metrics = manifest["metrics"]
    for key in ("quality_score", "column_shapes", "diagnostic_score", "trtr_auc", "dcr_share",
                "identical_to_training", "identical_to_holdout", "bmi_off_share_with_rule",
                "bmi_off_share_without_rule"):
        assert metrics[key] is not None and 0 <= metrics[key] <= 1, (method, key, metrics[key])
    assert isinstance(metrics["privacy_flagged"], bool)
    # three synthetic sets as large as the training part; the headline is their mean
    assert metrics["evaluation_seeds"] == 3 and metrics["synthetic_rows"] == manifest["training_rows"] == 2770
    assert metrics["spread"]["quality_score"] is not None
    assert manifest["data_check"]["rows_dropped"] == 0 and manifest["data_check"]["findings"] == []
    report = json.loads((store.version_dir(name, 1) / "report.json").read_text())
    if metrics["tstr_auc"] is None:
        # after 2 epochs a model may sample one class of heart_disease only: then TSTR says why
        assert report["utility"]["reason"], report["utility"]
    else:
        assert 0 <= metrics["tstr_auc"] <= 1

    sampled = store.load(name).sample(5)
    sampled = next(iter(sampled.values())) if isinstance(sampled, dict) else sampled
    assert list(sampled.columns) == expected_columns and len(sampled) == 5


def test_training_again_adds_a_version(tmp_path, progress):
    first = train_model(job_for("gaussian_copula", tmp_path))
    second = train_model(job_for("gaussian_copula", tmp_path, parameters={"default_distribution": "norm"}))
    assert (first["version"], second["version"]) == (1, 2)
    assert second["parameters"] == {"default_distribution": "norm", "fit_rows": DEFAULT_FIT_ROWS}
    assert ModelStore(tmp_path).latest("m_gaussian_copula") == 2


def test_training_an_unknown_method_fails_before_reading(tmp_path, progress):
    with pytest.raises(ParameterError, match="unknown method 'diffusion'"):
        train_model(job_for("gaussian_copula", tmp_path) | {"method": "diffusion"})
    assert not (tmp_path / "m_gaussian_copula").exists()


# --- parameter validation ------------------------------------------------------------------------


def test_unknown_method_lists_the_available_ones():
    with pytest.raises(ParameterError) as raised:
        get_method("gan")
    message = str(raised.value)
    assert "unknown method 'gan'" in message
    for name in METHODS:
        assert name in message


@pytest.mark.parametrize(
    ("method", "parameters", "problem"),
    [
        ("ctgan", {"learning_rate": 0.1}, "unknown parameter 'learning_rate' for ctgan"),
        ("gaussian_copula", {"epochs": 10}, "unknown parameter 'epochs' for gaussian_copula"),
        ("tvae", {"pac": 10}, "unknown parameter 'pac' for tvae"),
        ("ctgan", {"batch_size": 505}, r"batch_size \(505\) must be a multiple of pac \(10\)"),
        ("ctgan", {"batch_size": 60, "pac": 8}, r"batch_size \(60\) must be a multiple of pac \(8\)"),
        ("copulagan", {"batch_size": 15, "pac": 5}, r"batch_size \(15\) must be even"),
        ("tvae", {"batch_size": 501}, r"batch_size \(501\) must be even"),
        ("ctgan", {"batch_size": "500"}, "batch_size must be an integer, got '500'"),
        ("ctgan", {"batch_size": 500.0}, "batch_size must be an integer"),
        ("ctgan", {"batch_size": True}, "batch_size must be an integer, got True"),
        ("ctgan", {"batch_size": 0}, "batch_size must be >= 2"),
        ("ctgan", {"batch_size": 1_000_000}, "batch_size must be <= 100000"),
        ("ctgan", {"pac": 0}, "pac must be >= 1"),
        ("ctgan", {"generator_lr": "fast"}, "generator_lr must be a number"),
        ("ctgan", {"generator_lr": False}, "generator_lr must be a number"),
        ("ctgan", {"generator_lr": 2.0}, "generator_lr must be <= 1.0"),
        ("ctgan", {"generator_dim": []}, "generator_dim must be a non-empty list of integers 1-4096"),
        ("ctgan", {"generator_dim": [256, 0]}, "generator_dim must be a non-empty list"),
        ("ctgan", {"generator_dim": 256}, "generator_dim must be a non-empty list"),
        ("tvae", {"compress_dims": [128, "128"]}, "compress_dims must be a non-empty list"),
        ("tvae", {"loss_factor": -1}, "loss_factor must be >= 0.0"),
        ("gaussian_copula", {"default_distribution": "cauchy"}, "default_distribution must be one of"),
        ("copulagan", {"default_distribution": None}, "default_distribution must be one of"),
        ("cart", {"min_leaf": 0}, "min_leaf must be >= 1"),
        ("cart", {"epochs": 10}, "unknown parameter 'epochs' for cart"),
        ("cart", {"smoothing": "yes"}, "smoothing must be true or false, got 'yes'"),
        ("arf", {"delta": 0.6}, "delta must be <= 0.5"),
        ("mst", {"epsilon": 0}, "epsilon must be >= 0.01"),
        ("mst", {"epsilon": "high"}, "epsilon must be a number"),
    ],
)
def test_bad_parameters_are_rejected_naming_the_field(method, parameters, problem):
    with pytest.raises(ParameterError, match=problem):
        get_method(method).check_parameters(parameters)


@pytest.mark.parametrize(
    ("method", "parameters", "checked"),
    [
        ("ctgan", {}, {}),
        ("ctgan", {"batch_size": 500, "pac": 10}, {"batch_size": 500, "pac": 10}),
        ("ctgan", {"batch_size": 64, "pac": 1}, {"batch_size": 64, "pac": 1}),
        ("ctgan", {"generator_dim": [64, 64]}, {"generator_dim": (64, 64)}),
        ("ctgan", {"generator_lr": 1}, {"generator_lr": 1}),
        ("tvae", {"batch_size": 250 * 2}, {"batch_size": 500}),
        ("gaussian_copula", {"default_distribution": "norm"}, {"default_distribution": "norm"}),
        ("copulagan", {"default_distribution": "gamma", "batch_size": 100}, {"default_distribution": "gamma",
                                                                             "batch_size": 100}),
    ],
)
def test_good_parameters_pass(method, parameters, checked):
    assert get_method(method).check_parameters(parameters) == checked


def test_describe_lists_parameters_with_defaults_and_bounds():
    described = {m.name: m.describe() for m in METHODS.values()}
    assert described["gaussian_copula"]["trains_in_epochs"] is False
    assert described["gaussian_copula"]["default_epochs"] is None
    assert described["ctgan"]["default_epochs"] == 600  # tuned on the sample (README, quality table)
    batch = described["ctgan"]["parameters"]["batch_size"]
    assert batch["type"] == "int" and batch["default"] == 500 and batch["minimum"] == 2
    assert "choices" in described["copulagan"]["parameters"]["default_distribution"]
    assert set(described["tvae"]["parameters"]) == {"batch_size", "embedding_dim", "compress_dims",
                                                    "decompress_dims", "loss_factor", "fit_rows"}
    assert "scaled down" in described["ctgan"]["default_epochs_note"]
    assert described["gaussian_copula"]["parameters"]["fit_rows"]["default"] == DEFAULT_FIT_ROWS
