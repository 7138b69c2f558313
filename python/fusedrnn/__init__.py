"""fusedrnn: the Keras IMDB sentiment notebook's API on hand-tuned CPU kernels.

Change the imports at the top of the notebook and keep the rest::

    from fusedrnn import Sequential, layers, optimizers, callbacks, pad_sequences
    from fusedrnn import train_test_split
    from fusedrnn.datasets import imdb

Everything heavy (reading ``imdb.npz``, padding, the train/test split, scoring, training) runs in
the Rust library without the GIL; this package holds the Keras-shaped surface.
"""

from . import callbacks, datasets, layers, losses, models, optimizers, utils
from ._native import __version__, kernel_name, kernel_tuning
from .models import Sequential, load_model
from .tokfile import TokFile, TokSplit
from .utils import pad_sequences, set_random_seed, train_test_split

__all__ = [
    "Sequential",
    "TokFile",
    "TokSplit",
    "__version__",
    "callbacks",
    "datasets",
    "kernel_name",
    "kernel_tuning",
    "layers",
    "load_model",
    "losses",
    "models",
    "optimizers",
    "pad_sequences",
    "set_random_seed",
    "train_test_split",
    "utils",
]
