"""SDV synthesizers: the method registry, datasets, and the training and sampling that run in worker processes."""
