"""Datasets, as ``keras.datasets`` names them."""

from . import imdb

__all__ = ["imdb"]
