"""Type stubs for the Rust extension module (``python/src/*.rs``)."""

from os import PathLike
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
SEQ_LEN: int
INLINE_ROWS: int

_Path = Union[str, PathLike]
_Set = Tuple[npt.NDArray[np.int64], npt.NDArray[np.uintp], npt.NDArray[np.uint8]]
_History = List[Tuple[int, float, float, float, float, float]]

def kernel_name() -> str: ...
def kernel_tuning() -> str: ...
def load_imdb(
    path: _Path,
    num_words: Optional[int],
    skip_top: int,
    maxlen: Optional[int],
    seed: int,
    start_char: Optional[int],
    oov_char: Optional[int],
    index_from: int,
) -> Tuple[_Set, _Set]: ...
def pad_sequences(
    values: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    maxlen: int,
    value: int,
    padding: str,
    truncating: str,
) -> npt.NDArray[np.int64]: ...
def split_indices(
    n: int,
    test_count: Optional[int],
    test_fraction: Optional[float],
    train_count: Optional[int],
    train_fraction: Optional[float],
    shuffle: bool,
    seed: int,
) -> Tuple[npt.NDArray[np.uintp], npt.NDArray[np.uintp]]: ...
def write_synthetic_imdb(
    path: _Path, train: int = 25000, test: int = 25000, seed: int = 20111
) -> None: ...
def fit(
    model: Model,
    x: np.ndarray,
    y: npt.NDArray[np.float64],
    x_val: np.ndarray,
    y_val: npt.NDArray[np.float64],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    dropout: float,
    patience: int,
    seed: int,
    threads: int,
    on_epoch: Callable[[int, float, float, float, float, float, Optional[Model]], None],
) -> Tuple[_History, Model, int, bool, Model]: ...
def net_fit(
    net: Net,
    x: npt.NDArray[np.int64],
    y: npt.NDArray[np.float64],
    x_val: npt.NDArray[np.int64],
    y_val: npt.NDArray[np.float64],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    dropout: float,
    patience: int,
    seed: int,
    threads: int,
    on_epoch: Callable[[int, float, float, float, float, float, Optional[Net]], None],
) -> Tuple[_History, Net, int, bool, Net]: ...

class Net:
    cell: str
    units: int
    vocab: int
    width: Optional[int]
    seq_len: int
    is_notebook_shape: bool
    kernel: str
    @staticmethod
    def open(path: _Path, seq_len: Optional[int] = None) -> Net: ...
    @staticmethod
    def init(
        cell: str, units: int, vocab: int, width: Optional[int], seq_len: int, seed: int
    ) -> Net: ...
    @staticmethod
    def from_weights(
        cell: str,
        units: int,
        vocab: int,
        width: Optional[int],
        seq_len: int,
        weights: Sequence[npt.NDArray[np.float32]],
    ) -> Net: ...
    def get_weights(self) -> List[Tuple[str, npt.NDArray[np.float32]]]: ...
    def save(self, path: _Path, naming: str = "keras") -> None: ...
    def predict(self, x: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]: ...  # [n, 1]
    def evaluate(
        self, x: npt.NDArray[np.int64], y: npt.NDArray[np.float64]
    ) -> Tuple[float, float]: ...
    def predict_text(
        self, texts: Sequence[str], word_index: Union[_Path, Dict[str, int]]
    ) -> List[float]: ...
    def session(self, word_index: Union[_Path, Dict[str, int]]) -> Session: ...

class Model:
    arch: str
    vocab: int
    kernel: str
    @staticmethod
    def open(path: _Path) -> Model: ...
    @staticmethod
    def init(arch: str, vocab: int, seed: int) -> Model: ...
    @staticmethod
    def from_weights(arch: str, weights: Sequence[npt.NDArray[np.float32]]) -> Model: ...
    def get_weights(self) -> List[Tuple[str, npt.NDArray[np.float32]]]: ...
    def save(self, path: _Path, naming: str = "keras") -> None: ...
    def summary(self) -> str: ...
    def predict(self, x: np.ndarray) -> npt.NDArray[np.float32]: ...  # [n, 1]
    def evaluate(self, x: np.ndarray, y: npt.NDArray[np.float64]) -> Tuple[float, float]: ...
    def predict_text(
        self, texts: Sequence[str], word_index: Union[_Path, Dict[str, int]]
    ) -> List[float]: ...
    def session(self, word_index: Union[_Path, Dict[str, int]]) -> Session: ...

class Session:
    n_ids: int
    def push_text(self, chunk: str) -> None: ...
    def push_ids(self, ids: Sequence[int]) -> None: ...
    def prob(self) -> float: ...
    def running_prob(self) -> float: ...
    def reset(self) -> None: ...

class TokFile:
    num_words: int
    seq_len: int
    version: int
    def __init__(self, path: _Path) -> None: ...
    def params(self) -> Dict[str, object]: ...
    def split(
        self, name: str
    ) -> Tuple[
        Union[npt.NDArray[np.uint16], npt.NDArray[np.uint32]],
        npt.NDArray[np.uint8],
        npt.NDArray[np.uint32],
    ]: ...
