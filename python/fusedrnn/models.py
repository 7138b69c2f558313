"""``keras.Sequential`` for small recurrent models, and ``keras.models.load_model``.

A :class:`Sequential` of ``[Embedding(V, width, input_length=maxlen), SimpleRNN | LSTM | GRU(units),
Dense(1, sigmoid)]`` (or a recurrent layer with ``input_shape=(maxlen, V)`` on one-hot input),
units 1..256, maxlen 1..4096, is computed by fusedrnn; any other stack raises ``ValueError``
naming the layer. The notebook's shapes (``Embedding(V, 16)`` → ``LSTM(8)`` | ``SimpleRNN(8)``, or
one-hot ``SimpleRNN(8)``, maxlen 100) run on the fixed-shape kernels (``_native.Model``), every
other shape on the general ones (``_native.Net``). Weights live in the Rust library;
``predict``, ``evaluate`` and ``fit`` release the GIL.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native, losses, optimizers
from .callbacks import Callback, CSVLogger, EarlyStopping, History, ModelCheckpoint
from .layers import (
    GRU,
    LSTM,
    MAX_SEQ_LEN,
    MAX_VOCAB,
    Dense,
    Dropout,
    Embedding,
    Layer,
    SimpleRNN,
    _Recurrent,
)
from .utils import current_seed

SEQ_LEN: int = _native.SEQ_LEN
_ACCURACY = ("accuracy", "acc", "binary_accuracy")
# Native-order integer dtypes the extension reads in place (any shape error is raised there).
_FAST_DTYPES = frozenset(np.dtype(t) for t in (np.int32, np.int64, np.uint16, np.uint8))


_Native = Union[_native.Model, _native.Net]


class NetSpec(NamedTuple):
    """A stack's shape.

    ``arch`` (fusedrnn's name), the cell, units, vocabulary, embedding width (``None``: one-hot),
    input length, input dropout, and whether it is one of the notebook's shapes.
    """

    arch: str
    cell: str
    units: int
    vocab: int
    width: Optional[int]
    seq_len: int
    dropout: float
    notebook: bool


def _onehot_to_ids(a: np.ndarray, vocab: int) -> np.ndarray:
    """``[n, maxlen, vocab]`` one-hot rows (as ``to_categorical`` makes them) to ids."""
    if a.shape[-1] != vocab:
        raise ValueError(f"x: one-hot width {a.shape[-1]} but the model's input is {vocab} wide")
    ids = a.argmax(axis=-1)
    picked = np.take_along_axis(a, ids[..., None], axis=-1)[..., 0]
    if not (np.all(picked == 1) and np.all(a.sum(axis=-1) == 1)):
        bad = np.argwhere((picked != 1) | (a.sum(axis=-1) != 1))[0]
        raise ValueError(
            f"x[{bad[0]}, {bad[1]}] is not a one-hot vector (exactly one 1, the rest 0)"
        )
    return ids.astype(np.int32)


class Sequential:
    """A linear stack of layers, as ``keras.Sequential``, restricted to what fusedrnn computes."""

    def __init__(self, layers: Optional[Iterable[Layer]] = None, name: Optional[str] = None):
        self.name = name or "sequential"
        self.layers: List[Layer] = []
        self._native: Optional[_Native] = None
        self._optimizer: Optional[optimizers.RMSprop] = None
        self._metric: Optional[str] = None
        self.history: Optional[History] = None
        self.stop_training = False
        for layer in layers or []:
            self.add(layer)

    # ---- structure -----------------------------------------------------------------------

    def add(self, layer: Layer) -> None:
        """Append a layer (checked when the model is built)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"expected a fusedrnn.layers layer, got {type(layer).__name__}")
        self.layers.append(layer)
        self._native = None

    def _net_spec(self) -> NetSpec:
        """The stack's shape, or ``ValueError`` naming the layer."""
        core = [layer for layer in self.layers if not isinstance(layer, Dropout)]
        for layer in self.layers:
            layer.check()  # type: ignore[attr-defined]
        if not core:
            raise ValueError("the model has no layers")
        names = " → ".join(type(layer).__name__ for layer in self.layers)
        first = core[0]
        width: Optional[int]
        if isinstance(first, Embedding):
            if len(core) != 3:
                raise ValueError(
                    f"stack {names}: fusedrnn computes Embedding → SimpleRNN|LSTM|GRU → Dense "
                    "(one recurrent layer)"
                )
            rec, head = core[1], core[2]
            if not isinstance(rec, _Recurrent):
                raise rec._refuse("expected SimpleRNN, LSTM or GRU after the Embedding")
            if rec.input_shape is not None:
                raise rec._refuse("input_shape belongs on the first layer (the Embedding)")
            vocab, width = first.input_dim, first.output_dim
            length = first.input_length
        elif isinstance(first, _Recurrent):
            shape = first.input_shape
            if shape is None or len(shape) != 2:
                raise first._refuse(
                    "on one-hot input give input_shape=(maxlen, vocab) (or put an Embedding first)"
                )
            if len(core) != 2:
                raise ValueError(
                    f"stack {names}: fusedrnn computes SimpleRNN|LSTM|GRU → Dense on one-hot"
                )
            rec, head, width = first, core[1], None
            vocab = int(shape[1] or 0)
            length = shape[0]
            if not 1 <= vocab <= MAX_VOCAB:
                raise first._refuse(f"one-hot width {vocab} is outside 1..{MAX_VOCAB}")
            if length is not None and not 1 <= int(length) <= MAX_SEQ_LEN:
                raise first._refuse(f"input_shape={shape}: maxlen is outside 1..{MAX_SEQ_LEN}")
        else:
            raise first._refuse(
                "fusedrnn models start with Embedding or a recurrent layer on one-hot input"
            )
        if not isinstance(head, Dense):
            raise head._refuse("the last layer must be Dense(1, activation='sigmoid')")
        if isinstance(rec, GRU):
            cell = "gru" if rec.reset_after else "gru-v1"
        else:
            cell = "lstm" if isinstance(rec, LSTM) else "rnn"
        seq_len = SEQ_LEN if length is None else int(length)
        notebook = (
            rec.units == 8
            and seq_len == SEQ_LEN
            and vocab <= 65536
            and ((width == 16 and cell in ("lstm", "rnn")) or (width is None and cell == "rnn"))
        )
        if notebook:
            arch = "rnn-onehot" if width is None else cell
        else:
            arch = cell if width is not None else cell + "-onehot"
        return NetSpec(arch, cell, rec.units, vocab, width, seq_len, rec.dropout, notebook)

    def _spec(self) -> Tuple[str, int, float]:
        """``(arch, vocab, dropout)`` of the stack, or ``ValueError`` naming the layer."""
        s = self._net_spec()
        return s.arch, s.vocab, s.dropout

    def build(self, input_shape: Any = None) -> None:
        """Create the weights (Keras' initialisers, seeded by ``utils.set_random_seed``)."""
        if self._native is None:
            s = self._net_spec()
            if s.notebook:
                self._native = _native.Model.init(s.arch, s.vocab, current_seed())
            else:
                self._native = _native.Net.init(
                    s.cell, s.units, s.vocab, s.width, s.seq_len, current_seed()
                )

    @property
    def built(self) -> bool:
        """Whether the weights exist."""
        return self._native is not None

    def _model(self) -> _Native:
        self.build()
        assert self._native is not None
        return self._native

    @property
    def arch(self) -> str:
        """Fusedrnn's name for the architecture.

        The notebook's shapes are ``lstm``, ``rnn`` or ``rnn-onehot``; any other shape is its
        cell (``rnn``, ``lstm``, ``gru``, ``gru-v1``), with ``-onehot`` on one-hot input.
        """
        return self._net_spec().arch

    @property
    def seq_len(self) -> int:
        """The input length (``maxlen``) the model runs."""
        return self._net_spec().seq_len

    # ---- compile ---------------------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Optional[Sequence[Any]] = None,
        **kwargs: Any,
    ) -> None:
        """Set the optimizer (RMSprop), loss (binary cross-entropy) and metrics (accuracy)."""
        for key, value in kwargs.items():
            if value not in (None, False, "auto"):
                raise ValueError(f"compile: {key}={value!r} is not supported by fusedrnn")
        self._optimizer = optimizers.get(optimizer)
        if loss is None:
            raise ValueError("compile: loss must be 'binary_crossentropy'")
        losses.get(loss)
        self._metric = None
        for m in metrics or []:
            if m in _ACCURACY:
                self._metric = m if m != "binary_accuracy" else "binary_accuracy"
            else:
                raise ValueError(f"compile: metric {m!r}; fusedrnn computes accuracy only")
        self._spec()

    def _require_compiled(self) -> optimizers.RMSprop:
        if self._optimizer is None:
            raise RuntimeError("You must call `compile()` before using the model.")
        return self._optimizer

    # ---- inputs ----------------------------------------------------------------------------

    def _ids(self, x: Any, what: str = "x") -> np.ndarray:
        if type(x) is np.ndarray and x.ndim == 2 and x.dtype.kind in "iu" and x.dtype.isnative:
            return x
        a = np.asarray(x)
        if a.ndim == 3 and self._net_spec().width is None:
            return _onehot_to_ids(a, self._model().vocab)
        if a.dtype.kind == "f":
            if not (np.all(np.isfinite(a)) and np.all(a == np.floor(a))):
                raise ValueError(f"{what}: token ids must be whole numbers, got dtype {a.dtype}")
            a = a.astype(np.int64)
        elif a.dtype.kind not in "iu":
            raise ValueError(f"{what}: token ids must be integers, got dtype {a.dtype}")
        if a.ndim != 2:
            raise ValueError(
                f"{what}: expected a 2-D array [n, {self.seq_len}] of token ids, "
                f"got shape {a.shape}"
            )
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        return a

    @staticmethod
    def _labels(y: Any, n: int, what: str = "y") -> np.ndarray:
        b = np.asarray(y, dtype=np.float64)
        if b.ndim == 2 and b.shape[1] == 1:
            b = b[:, 0]
        if b.ndim != 1 or b.shape[0] != n:
            raise ValueError(f"{what}: expected {n} labels, got shape {b.shape}")
        return np.ascontiguousarray(b)

    # ---- inference -------------------------------------------------------------------------

    def predict(
        self,
        x: Any,
        batch_size: Optional[int] = None,
        verbose: Any = "auto",
        steps: Any = None,
        callbacks: Any = None,
    ) -> np.ndarray:
        """Probabilities, float32 ``[n, 1]`` (``batch_size`` does not change the result)."""
        native = self._native
        if (
            type(native) is _native.Model
            and type(x) is np.ndarray
            and x.ndim == 2
            and x.dtype in _FAST_DTYPES
        ):
            return native.predict(x)  # the common case, kept short
        m = self._model()
        if isinstance(m, _native.Net):
            return m.predict(_int64(self._ids(x)))
        return m.predict(self._ids(x))

    def __call__(self, x: Any) -> np.ndarray:
        """Same as :meth:`predict`."""
        return self.predict(x)

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: Optional[int] = None,
        verbose: Any = "auto",
        return_dict: bool = False,
        **kwargs: Any,
    ) -> Union[float, List[float], Dict[str, float]]:
        """``[loss, accuracy]`` (or ``loss`` without metrics), as Keras' ``evaluate``."""
        self._require_compiled()
        ids = self._ids(x)
        m = self._model()
        labels = self._labels(y, ids.shape[0])
        if isinstance(m, _native.Net):
            loss, acc = m.evaluate(_int64(ids), labels)
        else:
            loss, acc = m.evaluate(ids, labels)
        loss, acc = float(np.float32(loss)), float(np.float32(acc))
        if return_dict:
            out = {"loss": loss}
            if self._metric:
                out[self._metric] = acc
            return out
        return [loss, acc] if self._metric else loss

    def predict_text(
        self,
        texts: Union[str, Sequence[str]],
        word_index: Union[str, os.PathLike[str], Dict[str, int]],
    ) -> np.ndarray:
        """Probabilities ``[n, 1]`` of raw review texts.

        The notebook's tokenisation, as the CLI and C API do it, for a model of any shape: ids
        as ``load_data(num_words=vocab)`` makes them (``vocab`` the model's), then
        ``pad_sequences(maxlen=seq_len)`` (pads and truncates at the front). ``word_index`` is
        ``imdb_word_index.json``'s path or its dict.
        """
        if isinstance(texts, str):
            texts = [texts]
        wi = word_index if isinstance(word_index, dict) else os.fspath(word_index)
        probs = self._model().predict_text(list(texts), wi)
        return np.asarray(probs, dtype=np.float32).reshape(-1, 1)

    def session(self, word_index: Union[str, os.PathLike[str], Dict[str, int]]) -> _native.Session:
        """A streaming session: ``push_text`` / ``push_ids`` then ``prob()`` (the C API's).

        Any shape. ``prob()`` is :meth:`predict_text` of the review so far (an unfinished last
        word counts as a word); ``running_prob()`` is the recurrent state stepped once per
        finished word from zeros, without pads or truncation. The session keeps the weights it
        was opened with (a later ``fit`` or ``set_weights`` does not change it).
        """
        wi = word_index if isinstance(word_index, dict) else os.fspath(word_index)
        return self._model().session(wi)

    # ---- training --------------------------------------------------------------------------

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: Optional[int] = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Optional[Sequence[Callback]] = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: Any = None,
        validation_steps: Any = None,
        validation_batch_size: Any = None,
        validation_freq: int = 1,
        threads: Optional[int] = None,
    ) -> History:
        """Train as Keras' ``fit`` does; returns the :class:`~fusedrnn.callbacks.History`.

        Each epoch shuffles (seeded by ``utils.set_random_seed``), runs RMSprop steps over
        batches of ``batch_size`` (default 32), then evaluates ``validation_data``. Ctrl-C stops
        within one batch with ``KeyboardInterrupt``; the weights are then those before ``fit``
        and the last checkpoint file is whole. ``threads`` defaults to every core; the result
        does not depend on it.
        """
        opt = self._require_compiled()
        arch, _, dropout = self._spec()
        for layer in self.layers:
            if isinstance(layer, Dropout) and layer.rate > 0:
                raise layer._refuse(
                    "fusedrnn trains dropout as the recurrent layer's dropout= argument only"
                )
        unsupported = {
            "class_weight": class_weight,
            "sample_weight": sample_weight,
            "steps_per_epoch": steps_per_epoch,
            "validation_steps": validation_steps,
        }
        for key, value in unsupported.items():
            if value is not None:
                raise ValueError(f"fit: {key} is not supported by fusedrnn")
        if not shuffle:
            raise ValueError("fit: shuffle=False is not supported (fusedrnn always shuffles)")
        if initial_epoch != 0 or validation_freq != 1:
            raise ValueError("fit: initial_epoch and validation_freq must keep their defaults")
        epochs = int(epochs)
        batch_size = 32 if batch_size is None else int(batch_size)
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"fit: epochs={epochs} and batch_size={batch_size} must be >= 1")
        ids = self._ids(x)
        labels = self._labels(y, ids.shape[0])
        has_val = True
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("fit: validation_data must be (x_val, y_val)")
            xv = self._ids(validation_data[0], "validation_data x")
            yv = self._labels(validation_data[1], xv.shape[0], "validation_data y")
        elif validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"fit: validation_split={validation_split} outside (0, 1)")
            split_at = int(math.floor(ids.shape[0] * (1.0 - validation_split)))
            ids, xv = ids[:split_at], ids[split_at:]
            labels, yv = labels[:split_at], labels[split_at:]
        else:
            has_val = False
            xv, yv = ids[:1], labels[:1]
        if ids.shape[0] == 0 or xv.shape[0] == 0:
            which = "x" if ids.shape[0] == 0 else "the validation data"
            raise ValueError(f"fit: {which} has no rows")
        cbs = list(callbacks or [])
        stoppers = [c for c in cbs if isinstance(c, EarlyStopping)]
        checkpoints = [c for c in cbs if isinstance(c, ModelCheckpoint)]
        if not has_val and (stoppers or checkpoints):
            raise ValueError(
                "fit: EarlyStopping and ModelCheckpoint monitor val_loss; pass validation_data "
                "or validation_split"
            )
        es = stoppers[0] if stoppers else None
        patience = es.patience if es else epochs + 1
        verbose = 1 if verbose == "auto" else int(verbose)
        steps = -(-ids.shape[0] // batch_size)
        history = History()
        history.params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        history.set_model(self)
        for c in cbs:
            c.set_model(self)
            c.on_train_begin()
        metric = self._metric

        def on_epoch(
            epoch: int,
            loss: float,
            acc: float,
            vloss: float,
            vacc: float,
            seconds: float,
            best: Optional[_Native],
        ) -> None:
            e = epoch - 1
            logs: Dict[str, float] = {}
            if metric:
                logs[metric] = float(np.float32(acc))
            logs["loss"] = float(np.float32(loss))
            if has_val:
                if metric:
                    logs["val_" + metric] = float(np.float32(vacc))
                logs["val_loss"] = float(np.float32(vloss))
            if verbose:
                shown = " - ".join(f"{k}: {v:.4f}" for k, v in sorted(logs.items()))
                print(f"Epoch {epoch}/{epochs}")
                print(
                    f"{steps}/{steps} - {seconds:.0f}s - "
                    f"{seconds * 1000 / steps:.0f}ms/step - {shown}"
                )
                sys.stdout.flush()
            for cp in checkpoints:
                # Keras' rule, kept by each callback: save when val_loss beats the best this
                # callback has seen (across fit calls; never on a NaN). The fit loop's own "best"
                # also counts a first epoch with a NaN val_loss, for restore_best_weights.
                if best is not None and logs["val_loss"] < cp.best:
                    cp.save_improved(e, logs, best)
                else:
                    cp.not_improved(e, logs)
            history.on_epoch_end(e, logs)
            for c in cbs:
                if not isinstance(c, (ModelCheckpoint, EarlyStopping)):
                    c.on_epoch_end(e, logs)

        threads = int(threads) if threads is not None else (os.cpu_count() or 1)
        model = self._model()
        if isinstance(model, _native.Net):
            fit_fn: Any = _native.net_fit
            ids, xv = _int64(ids), _int64(xv)
        else:
            fit_fn = _native.fit
        try:
            hist, best, best_epoch, stopped, last = fit_fn(
                model,
                ids,
                labels,
                xv,
                yv,
                epochs=epochs,
                batch_size=batch_size,
                lr=opt.learning_rate,
                dropout=dropout,
                patience=patience,
                seed=current_seed(),
                threads=threads,
                on_epoch=on_epoch,
            )
        finally:
            for c in cbs:
                if isinstance(c, CSVLogger):
                    c.on_train_end()
        if es is not None:
            es.best_epoch = best_epoch - 1
            if stopped:
                es.stopped_epoch = len(hist) - 1
                if es.verbose > 0:
                    print(f"Epoch {len(hist)}: early stopping")
            if es.restore_best_weights and es.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {best_epoch}.")
        self._native = best if (es is not None and es.restore_best_weights) else last
        for c in cbs:
            if not isinstance(c, CSVLogger):
                c.on_train_end()
        self.history = history
        return history

    # ---- weights and files -------------------------------------------------------------------

    def get_weights(self) -> List[np.ndarray]:
        """The weights in Keras' order and shapes (float32 copies)."""
        return [w for _, w in self._model().get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replace the weights from arrays in Keras' order and shapes.

        Checked: the count, every shape, finite values.
        """
        arrays = [np.ascontiguousarray(w, dtype=np.float32) for w in weights]
        s = self._net_spec()
        if s.notebook:
            self._native = _native.Model.from_weights(s.arch, arrays)
        else:
            self._native = _native.Net.from_weights(
                s.cell, s.units, s.vocab, s.width, s.seq_len, arrays
            )

    def count_params(self) -> int:
        """Number of weights."""
        return int(sum(w.size for w in self.get_weights()))

    def summary(self, print_fn: Any = None, **kwargs: Any) -> None:
        """Print the Keras-style layer table."""
        m = self._model()
        if isinstance(m, _native.Model):
            (print_fn or print)(m.summary())
            return
        (print_fn or print)(self._summary_table(m))

    def _summary_table(self, m: _native.Net) -> str:
        weights = m.get_weights()
        rows: List[Tuple[str, str, int]] = []
        n_rec = 3 if m.width is not None else 2
        if m.width is not None:
            rows.append(
                ("embedding (Embedding)", f"(None, {m.seq_len}, {m.width})", weights[0][1].size)
            )
        rec_params = sum(w.size for _, w in weights[-n_rec - 2 : -2])
        kind = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU", "gru-v1": "GRU"}[m.cell]
        rows.append((f"{kind.lower()} ({kind})", f"(None, {m.units})", rec_params))
        rows.append(("dense (Dense)", "(None, 1)", sum(w.size for _, w in weights[-2:])))
        total = sum(w.size for _, w in weights)
        lines = [f'Model: "{self.name}"', "-" * 72]
        lines.append(f"{'Layer (type)':<32}{'Output Shape':<26}{'Param #':>12}")
        lines.append("=" * 72)
        for name, shape, count in rows:
            lines.append(f"{name:<32}{shape:<26}{count:>12,}")
        lines.append("=" * 72)
        lines.append(f" Total params: {total:,}")
        lines.append(f" Trainable params: {total:,}")
        lines.append(" Non-trainable params: 0")
        return "\n".join(lines)

    def save(self, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
        """Write the weights as ``.safetensors`` (Keras tensor names), atomically."""
        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise FileExistsError(path)
        self._model().save(path)

    def save_weights(self, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
        """Same as :meth:`save` (the file holds only weights)."""
        self.save(filepath, overwrite)

    def __repr__(self) -> str:
        return f"<fusedrnn.Sequential {[type(layer).__name__ for layer in self.layers]}>"


def _int64(ids: np.ndarray) -> np.ndarray:
    """Ids as the C-contiguous int64 array the general scorer reads (checked there)."""
    if ids.dtype == np.uint64 and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
        ids = np.minimum(ids, np.iinfo(np.int64).max)
    return np.ascontiguousarray(ids, dtype=np.int64)


def _layers_for_net(net: _native.Net) -> List[Layer]:
    rec: Layer
    onehot = None if net.width is not None else (net.seq_len, net.vocab)
    kw: Dict[str, Any] = {} if onehot is None else {"input_shape": onehot}
    if net.cell in ("gru", "gru-v1"):
        rec = GRU(net.units, reset_after=net.cell == "gru", **kw)
    elif net.cell == "lstm":
        rec = LSTM(net.units, **kw)
    else:
        rec = SimpleRNN(net.units, **kw)
    head = Dense(1, activation="sigmoid")
    if net.width is None:
        return [rec, head]
    return [Embedding(net.vocab, net.width, input_length=net.seq_len), rec, head]


def _layers_for(arch: str, vocab: int) -> List[Layer]:
    if arch == "lstm":
        return [Embedding(vocab, 16), LSTM(8), Dense(1, activation="sigmoid")]
    if arch == "rnn":
        return [Embedding(vocab, 16), SimpleRNN(8), Dense(1, activation="sigmoid")]
    return [SimpleRNN(8, input_shape=(SEQ_LEN, vocab)), Dense(1, activation="sigmoid")]


def load_model(
    filepath: str | os.PathLike[str],
    compile: bool = True,
    seq_len: Optional[int] = None,
    **kwargs: Any,
) -> Sequential:
    """Open a model file: ``.safetensors`` (fusedrnn's, Keras or PyTorch), ``.h5``, ``.keras``.

    Any shape fusedrnn computes; the notebook's shapes open on their fixed-shape kernels.
    ``seq_len`` (``maxlen``) is needed for files that do not record the input length (PyTorch
    state dicts of other shapes) and overrides a recorded one. With ``compile=True`` the model
    is compiled as the notebook compiles it (binary cross-entropy, accuracy,
    ``RMSprop(learning_rate=1e-4)``), ready for ``evaluate``.
    """
    path = os.fspath(filepath)
    model: Sequential
    fixed: Optional[_native.Model] = None
    if seq_len in (None, SEQ_LEN):
        try:
            fixed = _native.Model.open(path)
        except ValueError:
            fixed = None  # not the notebook's shape: the general reader says why, if anything
    if fixed is not None:
        model = Sequential(_layers_for(fixed.arch, fixed.vocab))
        model._native = fixed
    else:
        net = _native.Net.open(path, seq_len)
        model = Sequential(_layers_for_net(net))
        model._native = net
    if compile:
        model.compile(
            optimizer=optimizers.RMSprop(learning_rate=1e-4),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
    return model


__all__ = ["Sequential", "load_model"]
