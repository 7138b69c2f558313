//! Readers for Keras' `imdb.npz` and the notebook's preprocessing semantics.
