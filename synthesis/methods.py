"""The registry of training methods: a name, the SDV class, and the parameters a user may set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ParameterError(ValueError):
    """A training parameter is unknown or out of range."""


@dataclass(frozen=True)
class Parameter:
    type: str  # "int", "float", "bool", "choice", "int_list"
    description: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, name: str, value: Any) -> Any:
        if self.type == "choice":
            if value not in self.choices:
                raise ParameterError(f"{name} must be one of {list(self.choices)}, got {value!r}")
            return value
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{name} must be true or false, got {value!r}")
            return value
        if self.type == "int_list":
            if not isinstance(value, list) or not value or not all(_is_int(v) and 1 <= v <= 4096 for v in value):
                raise ParameterError(f"{name} must be a non-empty list of integers 1-4096")
            return tuple(value)
        if self.type == "int" and not _is_int(value):
            raise ParameterError(f"{name} must be an integer, got {value!r}")
        if self.type == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ParameterError(f"{name} must be a number, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ParameterError(f"{name} must be >= {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise ParameterError(f"{name} must be <= {self.maximum}, got {value}")
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Method:
    name: str
    synthesizer: str  # dotted path, imported only in the training process
    description: str
    epochs: int | None  # default epochs; None for methods that do not train in epochs
    parameters: dict[str, Parameter] = field(default_factory=dict)
    # Where this project's defaults differ from SDV's (tuned on the sample: see the README's quality table)
    defaults: dict[str, Any] = field(default_factory=dict)

    def check_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Validated keyword arguments for the synthesizer; raises ParameterError naming the field."""
        checked = {}
        for key, value in parameters.items():
            if key not in self.parameters:
                raise ParameterError(f"unknown parameter {key!r} for {self.name}; accepted: {sorted(self.parameters)}")
            checked[key] = self.parameters[key].check(key, value)
        batch = checked.get("batch_size")
        pac = checked.get("pac", self.parameters["pac"].default if "pac" in self.parameters else 1)
        if batch is not None and pac and batch % pac:
            raise ParameterError(f"batch_size ({batch}) must be a multiple of pac ({pac})")
        if batch is not None and batch % 2:
            raise ParameterError(f"batch_size ({batch}) must be even")
        return checked

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "trains_in_epochs": self.epochs is not None,
            "default_epochs": self.epochs,
            "default_epochs_note": None if self.epochs is None else (
                f"for up to {REFERENCE_TRAINING_ROWS:,} training rows; scaled down on more rows to keep about "
                f"as many optimiser steps, never below {MIN_SCALED_EPOCHS}"
            ),
            "parameters": {
                key: {k: v for k, v in vars(p).items() if v not in (None, ())} for key, p in self.parameters.items()
            },
        }


# Epoch defaults were tuned on the bundled sample's 2,770 training rows. An epoch is one pass over the
# rows, so on a larger dataset the same number of optimiser steps takes proportionally fewer epochs:
# default_epochs() scales the default down (never below MIN_SCALED_EPOCHS); an explicit `epochs` wins.
REFERENCE_TRAINING_ROWS = 2_770
MIN_SCALED_EPOCHS = 10
# Per-column distribution and mixture fits see at most this many rows (synthesis/speedups.py).
DEFAULT_FIT_ROWS = 50_000


def default_epochs(method: "Method", training_rows: int) -> int | None:
    """The method's tuned epochs, scaled to keep about the same number of optimiser steps on more rows."""
    if method.epochs is None:
        return None
    if training_rows <= REFERENCE_TRAINING_ROWS:
        return method.epochs
    scaled = -(-method.epochs * REFERENCE_TRAINING_ROWS // training_rows)  # ceiling division
    return min(method.epochs, max(MIN_SCALED_EPOCHS, scaled))


DISTRIBUTIONS = ("norm", "beta", "truncnorm", "uniform", "gamma", "gaussian_kde")

_FIT_ROWS = {
    "fit_rows": Parameter(
        "int", "Rows each per-column distribution or mixture fit sees at most (0: every row).", DEFAULT_FIT_ROWS,
        0, 100_000_000,
    ),
}
_GAN = {
    "batch_size": Parameter("int", "Rows per training step (even, a multiple of pac).", 500, 2, 100_000),
    "pac": Parameter("int", "Rows the discriminator sees together (PacGAN).", 10, 1, 100),
    "discriminator_steps": Parameter("int", "Discriminator updates per generator update.", 1, 1, 20),
    "embedding_dim": Parameter("int", "Size of the random input to the generator.", 128, 1, 4096),
    "generator_dim": Parameter("int_list", "Sizes of the generator's residual layers.", [256, 256]),
    "discriminator_dim": Parameter("int_list", "Sizes of the discriminator's layers.", [256, 256]),
    "generator_lr": Parameter("float", "Generator learning rate.", 2e-4, 1e-7, 1.0),
    "discriminator_lr": Parameter("float", "Discriminator learning rate.", 2e-4, 1e-7, 1.0),
}
_COPULA = {
    "default_distribution": Parameter(
        "choice", "Marginal distribution fitted to numeric columns.", "beta", choices=DISTRIBUTIONS
    ),
}

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "cart",
            "synthesis.synthesizers.cart.CARTSynthesizer",
            "Sequential decision trees (synthpop's CART): each column drawn from a leaf of real values given the "
            "columns before it. Keeps the relations between risk factors and outcome; trains in seconds; the default.",
            None,
            {
                "min_leaf": Parameter(
                    "int", "Training rows every leaf holds at least: each drawn value is shared by that many "
                    "real people (the privacy guard; 1 copies rows).", 30, 1, 1_000_000,
                ),
                "smoothing": Parameter(
                    "bool", "Move each drawn number by its leaf's kernel bandwidth instead of handing out one "
                    "person's exact value (synthpop's density smoothing).", True,
                ),
            },
        ),
        Method(
            "arf",
            "synthesis.synthesizers.arf.ARFSynthesizer",
            "Adversarial random forests (Watson et al. 2023): a forest trained against its own fakes until it "
            "cannot tell them apart, then columns drawn independently within its leaves.",
            None,
            {
                "num_trees": Parameter("int", "Trees in the forest.", 20, 1, 500),
                "min_node_size": Parameter("int", "Real rows every leaf holds at least.", 5, 1, 1_000_000),
                "delta": Parameter("float", "Stop once the forest's out-of-bag accuracy is at most 0.5 + delta.",
                                   0.0, 0.0, 0.5),
                "max_iters": Parameter("int", "Most adversarial rounds.", 10, 1, 50),
                "max_fit_rows": Parameter("int", "Rows the forest learns from at most (a seeded sample; 0: every "
                                          "row); bounds the model's size.", 50_000, 0, 100_000_000),
            },
        ),
        Method(
            "mst",
            "synthesis.synthesizers.mst.MSTSynthesizer",
            "Differentially private: noisy one- and two-way counts on a tree of column pairs (after MST, McKenna et "
            "al. 2021). The guarantee is (epsilon, delta)-DP; the price is fidelity, most on small tables.",
            None,
            {
                "epsilon": Parameter("float", "Privacy budget: smaller is more private and less faithful.",
                                     1.0, 0.01, 100.0),
                "delta": Parameter("float", "Probability the epsilon guarantee may fail.", 1e-9, 1e-15, 1e-3),
                "bins": Parameter("int", "Equal-width bins each numeric column is cut into.", 10, 2, 256),
            },
            defaults={"epsilon": 1.0, "delta": 1e-9},  # recorded in every manifest: the guarantee a model carries
        ),
        Method(
            "gaussian_copula",
            "sdv.single_table.GaussianCopulaSynthesizer",
            "Gaussian copula over fitted marginals: seconds to train, strong column shapes, weak on relations "
            "between columns.",
            None,
            {**_COPULA, **_FIT_ROWS},
        ),
        Method(
            "ctgan",
            "sdv.single_table.CTGANSynthesizer",
            "Conditional GAN for mixed tables: learns complex joint distributions, needs many epochs.",
            600,  # SDV's 300 reached quality 0.79 on the sample, 600 reached 0.85
            {**_GAN, **_FIT_ROWS},
        ),
        Method(
            "tvae",
            "sdv.single_table.TVAESynthesizer",
            "Variational autoencoder for tables: faster than CTGAN per epoch.",
            300,
            {
                "batch_size": Parameter("int", "Rows per training step (even).", 100, 2, 100_000),
                "embedding_dim": Parameter("int", "Size of the latent space.", 128, 1, 4096),
                "compress_dims": Parameter("int_list", "Encoder layer sizes.", [128, 128]),
                "decompress_dims": Parameter("int_list", "Decoder layer sizes.", [128, 128]),
                "loss_factor": Parameter("float", "Weight of the reconstruction loss.", 2, 0.0, 1000.0),
                **_FIT_ROWS,
            },
            defaults={"batch_size": 100},  # SDV's 500 reached quality 0.85 on the sample, 100 reached 0.865
        ),
        Method(
            "copulagan",
            "sdv.single_table.CopulaGANSynthesizer",
            "CTGAN on copula-transformed numeric columns.",
            300,
            {**_GAN, **_COPULA, **_FIT_ROWS},
        ),
    )
}


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise ParameterError(f"unknown method {name!r}; available: {sorted(METHODS)}") from None
