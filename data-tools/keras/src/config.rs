//! The model config (Keras' JSON architecture) → which of the notebook's models it is, and the
//! names of the layers that hold its weights.
//!
//! Both dialects are read: tf.keras 2 (`batch_input_shape`, `input_length`, `time_major`) and
//! Keras 3 (`batch_shape`, `build_config`, `module`/`registered_name` entries). The model must be a
//! `Sequential` or `Functional` chain `[InputLayer] → [Embedding] → LSTM | SimpleRNN → Dense(1,
//! sigmoid)` (in [`Mode::General`] also GRU, with any sizes within the `NET_MAX_*` limits), with
//! any number of `Dropout` layers (identity at inference) in between. Everything a
//! layer can set that changes the forward pass is checked against what our kernels compute; the
//! first difference is an error naming the layer.

use serde_json::Value;

use crate::{
    Arch, Cell, EMBED, HIDDEN, MAX_VOCAB, NET_MAX_UNITS, NET_MAX_VOCAB, NET_MAX_WIDTH, Problem,
};

/// Which models a reading accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The notebook's three models only ([`crate::read`]).
    Notebook,
    /// Any `[Embedding(V, W) | one-hot] → SimpleRNN | LSTM | GRU(H) → Dense(1, sigmoid)` within
    /// the `NET_MAX_*` limits ([`crate::read_net`]).
    General,
}

/// What the config says about the model.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The notebook's name for the model; only meaningful in [`Mode::Notebook`].
    pub arch: Arch,
    /// The recurrent cell and its units.
    pub cell: Cell,
    pub units: usize,
    /// The Embedding's `output_dim` (`None`: one-hot input).
    pub width: Option<usize>,
    /// Input length, when the config fixes it.
    pub seq_len: Option<usize>,
    /// `input_dim` of the Embedding, or the one-hot width when the config gives it.
    pub vocab: Option<usize>,
    /// Layer names (as in the config and the weight file) of the Embedding (absent for one-hot
    /// input), the recurrent layer and the Dense layer.
    pub embedding: Option<String>,
    pub recurrent: String,
    pub dense: String,
}

/// Layer classes that are the identity at inference.
const PASS_THROUGH: [&str; 2] = ["Dropout", "SpatialDropout1D"];
/// Recurrent layer classes, for the "stacked" check (only LSTM and SimpleRNN are runnable).
const RECURRENT: [&str; 7] = [
    "LSTM",
    "SimpleRNN",
    "GRU",
    "Bidirectional",
    "RNN",
    "CuDNNLSTM",
    "CuDNNGRU",
];

/// One layer entry of the config.
struct Layer<'a> {
    class: &'a str,
    name: &'a str,
    config: &'a Value,
}

impl Layer<'_> {
    fn refuse(&self, problem: impl Into<String>) -> Problem {
        Problem::Unsupported {
            layer: self.name.to_owned(),
            class: self.class.to_owned(),
            problem: problem.into(),
        }
    }

    /// A boolean setting that must have the value `want` (absent counts as `default`).
    fn require_bool(&self, key: &str, default: bool, want: bool, why: &str) -> Result<(), Problem> {
        match self.config.get(key) {
            None | Some(Value::Null) if default == want => Ok(()),
            Some(Value::Bool(b)) if *b == want => Ok(()),
            None | Some(Value::Null) => Err(self.refuse(format!("{key}={default}: {why}"))),
            Some(other) => Err(self.refuse(format!("{key}={other}: {why}"))),
        }
    }

    /// A string setting (an activation) that must be `want` (absent counts as `default`).
    fn require_str(&self, key: &str, default: &str, want: &str) -> Result<(), Problem> {
        match self.config.get(key) {
            None | Some(Value::Null) if default == want => Ok(()),
            Some(Value::String(s)) if s == want => Ok(()),
            None | Some(Value::Null) => Err(self.refuse(format!(
                "{key} {default:?} is not supported (fusedrnn runs {want:?})"
            ))),
            Some(Value::String(s)) => Err(self.refuse(format!(
                "{key} {s:?} is not supported (fusedrnn runs {want:?})"
            ))),
            Some(other) => Err(self.refuse(format!(
                "{key} {other} is not supported (fusedrnn runs {want:?})"
            ))),
        }
    }

    /// A positive integer setting.
    fn usize(&self, key: &str) -> Result<usize, Problem> {
        self.config
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.refuse(format!("no integer `{key}` in its config")))
    }

    /// The input shape it declares (`batch_shape`, `batch_input_shape`, or `build_config`'s
    /// `input_shape`), batch dimension included. A declared shape that is not a list of
    /// non-negative integers and nulls is refused by name, not taken for no shape at all.
    fn input_shape(&self, root: &Value) -> Result<Option<Vec<Option<usize>>>, Problem> {
        let Some((key, shape)) = ["batch_shape", "batch_input_shape"]
            .into_iter()
            .find_map(|k| self.config.get(k).map(|v| (k, v)))
            .or_else(|| {
                root.get("build_config")
                    .and_then(|b| b.get("input_shape"))
                    .map(|v| ("build_config.input_shape", v))
            })
        else {
            return Ok(None);
        };
        let bad = || self.refuse(format!("`{key}` is {shape}, not a list of sizes and nulls"));
        shape
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|d| match d {
                Value::Null => Ok(None),
                d => d
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(Some)
                    .ok_or_else(bad),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// Reads the config JSON.
pub(crate) fn plan(text: &str, mode: Mode) -> Result<Plan, Problem> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| Problem::Config(format!("not valid JSON: {e}")))?;
    let layers = layer_entries(&root)?;
    refuse_stacked(&layers)?;
    let mut walk = Walk {
        mode,
        ..Walk::default()
    };
    for (layer, entry) in &layers {
        walk.layer(layer, entry)?;
    }
    walk.finish()
}

/// The model's class (a chain of layers) and its layer entries, each with its class, name and
/// config.
fn layer_entries(root: &Value) -> Result<Vec<(Layer<'_>, &Value)>, Problem> {
    let class = root
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::Config("no `class_name`".into()))?;
    if !matches!(class, "Sequential" | "Functional" | "Model") {
        return Err(Problem::Model(format!(
            "model class `{class}` is not supported: fusedrnn reads Sequential and Functional models"
        )));
    }
    let entries = root
        .get("config")
        .and_then(|c| c.get("layers"))
        .and_then(Value::as_array)
        .ok_or_else(|| Problem::Config("no `config.layers` list".into()))?;
    let mut layers = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let class = entry
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| Problem::Config(format!("layer {i} has no `class_name`")))?;
        let config = entry
            .get("config")
            .filter(|c| c.is_object())
            .ok_or_else(|| Problem::Config(format!("layer {i} ({class}) has no `config`")))?;
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .or_else(|| entry.get("name").and_then(Value::as_str))
            .ok_or_else(|| Problem::Config(format!("layer {i} ({class}) has no `name`")))?;
        layers.push((
            Layer {
                class,
                name,
                config,
            },
            entry,
        ));
    }
    Ok(layers)
}

/// A second recurrent layer (of any kind) is refused, naming it.
fn refuse_stacked(layers: &[(Layer, &Value)]) -> Result<(), Problem> {
    let recurrent: Vec<&Layer> = layers
        .iter()
        .map(|(l, _)| l)
        .filter(|l| RECURRENT.contains(&l.class))
        .collect();
    if let [first, second, ..] = recurrent[..] {
        return Err(second.refuse(format!(
            "stacked recurrent layers (`{}` then `{}`): fusedrnn runs exactly one",
            first.name, second.name
        )));
    }
    Ok(())
}

/// What the layers seen so far say, in order.
struct Walk {
    mode: Mode,
    seq_len: Option<usize>,
    /// The last dimension of the input, for one-hot models.
    width: Option<usize>,
    /// The Embedding's name and `input_dim`.
    embedding: Option<(String, usize)>,
    /// The recurrent layer's name and the architecture it makes.
    rnn: Option<(String, Arch)>,
    /// The recurrent cell and its units.
    cell: Option<(Cell, usize)>,
    /// The Embedding's `output_dim`.
    embed_width: Option<usize>,
    dense: Option<String>,
}

impl Default for Walk {
    fn default() -> Self {
        Walk {
            mode: Mode::Notebook,
            seq_len: None,
            width: None,
            embedding: None,
            rnn: None,
            cell: None,
            embed_width: None,
            dense: None,
        }
    }
}

impl Walk {
    /// Notes the sequence length and input width of a declared input shape (the first one wins).
    fn note_shape(&mut self, shape: Option<Vec<Option<usize>>>) {
        if let Some(shape) = shape {
            if let Some(Some(t)) = shape.get(1) {
                self.seq_len.get_or_insert(*t);
            }
            if let (3, Some(Some(v))) = (shape.len(), shape.get(2)) {
                self.width.get_or_insert(*v);
            }
        }
    }

    /// One layer, in order.
    fn layer(&mut self, layer: &Layer, entry: &Value) -> Result<(), Problem> {
        match layer.class {
            "InputLayer" => self.note_shape(layer.input_shape(entry)?),
            c if PASS_THROUGH.contains(&c) => {}
            "Embedding" => self.embedding_layer(layer, entry)?,
            "LSTM" | "SimpleRNN" => self.recurrent_layer(layer, entry)?,
            "GRU" if self.mode == Mode::General => self.recurrent_layer(layer, entry)?,
            "Dense" => self.dense_layer(layer)?,
            _ => {
                return Err(layer.refuse(
                    "layer type not supported: fusedrnn runs [Embedding →] LSTM | SimpleRNN → \
                     Dense(1, sigmoid), with Dropout layers allowed",
                ));
            }
        }
        Ok(())
    }

    /// `layer` comes after `what`, out of the chain's order.
    fn after(layer: &Layer, what: &str) -> Problem {
        layer.refuse(format!("comes after the {what}; fusedrnn runs [Embedding →] LSTM | SimpleRNN → Dense(1, sigmoid)"))
    }

    fn embedding_layer(&mut self, layer: &Layer, entry: &Value) -> Result<(), Problem> {
        if let Some(d) = &self.dense {
            return Err(Self::after(layer, &format!("Dense layer `{d}`")));
        }
        if let Some((r, _)) = &self.rnn {
            return Err(Self::after(layer, &format!("recurrent layer `{r}`")));
        }
        if let Some((e, _)) = &self.embedding {
            return Err(Self::after(layer, &format!("Embedding `{e}`")));
        }
        let vocab = layer.usize("input_dim")?;
        let dim = layer.usize("output_dim")?;
        match self.mode {
            Mode::Notebook => {
                if !(1..=MAX_VOCAB).contains(&vocab) {
                    return Err(layer.refuse(format!(
                        "input_dim {vocab} is out of range (token ids are u16: 1..={MAX_VOCAB})"
                    )));
                }
                if dim != EMBED {
                    return Err(layer.refuse(format!(
                        "output_dim {dim} is not supported (fusedrnn's embedding is {EMBED} wide)"
                    )));
                }
            }
            Mode::General => {
                if !(1..=NET_MAX_VOCAB).contains(&vocab) {
                    return Err(layer.refuse(format!(
                        "input_dim {vocab} is out of range (1..={NET_MAX_VOCAB})"
                    )));
                }
                if !(1..=NET_MAX_WIDTH).contains(&dim) {
                    return Err(layer.refuse(format!(
                        "output_dim {dim} is out of range (1..={NET_MAX_WIDTH})"
                    )));
                }
            }
        }
        self.embed_width = Some(dim);
        layer.require_bool(
            "mask_zero",
            false,
            false,
            "masking skips padded steps, which fusedrnn's kernels run as ordinary steps",
        )?;
        if let Some(t) = layer.config.get("input_length").and_then(Value::as_u64) {
            self.note_shape(Some(vec![None, usize::try_from(t).ok()]));
        }
        self.note_shape(layer.input_shape(entry)?);
        self.embedding = Some((layer.name.to_owned(), vocab));
        Ok(())
    }

    fn recurrent_layer(&mut self, layer: &Layer, entry: &Value) -> Result<(), Problem> {
        if let Some(d) = &self.dense {
            return Err(Self::after(layer, &format!("Dense layer `{d}`")));
        }
        let cell = check_recurrent(layer, self.mode)?;
        self.cell = Some(cell);
        if self.mode == Mode::Notebook && layer.class == "LSTM" && self.embedding.is_none() {
            return Err(layer.refuse(
                "an LSTM without an Embedding before it (one-hot input) is not one of \
                 fusedrnn's models",
            ));
        }
        let one_hot = self.embedding.is_none();
        self.note_shape(layer.input_shape(entry)?.filter(|_| one_hot));
        let arch = match (layer.class, one_hot) {
            ("LSTM", _) => Arch::Lstm,
            (_, false) => Arch::Rnn,
            (_, true) => Arch::RnnOneHot,
        };
        self.rnn = Some((layer.name.to_owned(), arch));
        Ok(())
    }

    fn dense_layer(&mut self, layer: &Layer) -> Result<(), Problem> {
        if let Some(d) = &self.dense {
            return Err(Self::after(layer, &format!("Dense layer `{d}`")));
        }
        if self.rnn.is_none() {
            return Err(layer.refuse(
                "a Dense layer before the recurrent layer is not one of fusedrnn's models",
            ));
        }
        let units = layer.usize("units")?;
        if units != 1 {
            return Err(layer.refuse(format!(
                "units {units} is not supported (fusedrnn's output is Dense(1, sigmoid))"
            )));
        }
        layer.require_str("activation", "linear", "sigmoid")?;
        layer.require_bool("use_bias", true, true, "fusedrnn's Dense has a bias")?;
        self.dense = Some(layer.name.to_owned());
        Ok(())
    }

    /// The plan, once every layer is seen: a recurrent layer and a Dense one are required.
    fn finish(self) -> Result<Plan, Problem> {
        let Some((recurrent, arch)) = self.rnn else {
            return Err(Problem::Model(match self.mode {
                Mode::Notebook => "no LSTM or SimpleRNN layer: not one of fusedrnn's models".into(),
                Mode::General => {
                    "no SimpleRNN, LSTM or GRU layer: not a model fusedrnn runs".into()
                }
            }));
        };
        let Some(dense) = self.dense else {
            return Err(Problem::Model(format!(
                "no Dense(1, sigmoid) layer after `{recurrent}`: not one of fusedrnn's models"
            )));
        };
        let vocab = match &self.embedding {
            Some((_, v)) => Some(*v),
            None => self.width,
        };
        match self.mode {
            Mode::Notebook => {
                if let Some(v) = vocab.filter(|v| !(1..=MAX_VOCAB).contains(v)) {
                    return Err(Problem::Model(format!(
                        "input width {v} is out of range (token ids are u16: 1..={MAX_VOCAB})"
                    )));
                }
            }
            Mode::General => {
                if let Some(v) = vocab.filter(|v| !(1..=NET_MAX_VOCAB).contains(v)) {
                    return Err(Problem::Model(format!(
                        "one-hot input width {v} is out of range (1..={NET_MAX_VOCAB})"
                    )));
                }
            }
        }
        let (cell, units) = self.cell.unwrap_or((Cell::Lstm, HIDDEN));
        Ok(Plan {
            arch,
            cell,
            units,
            width: self.embed_width,
            seq_len: self.seq_len,
            vocab,
            embedding: self.embedding.map(|(name, _)| name),
            recurrent,
            dense,
        })
    }
}

/// Everything an LSTM / SimpleRNN (/ GRU, in [`Mode::General`]) layer can set that changes its
/// output; returns the cell and its units.
fn check_recurrent(layer: &Layer, mode: Mode) -> Result<(Cell, usize), Problem> {
    let units = layer.usize("units")?;
    match mode {
        Mode::Notebook if units != HIDDEN => {
            return Err(layer.refuse(format!(
                "units {units} is not supported (fusedrnn runs {HIDDEN})"
            )));
        }
        Mode::General if !(1..=NET_MAX_UNITS).contains(&units) => {
            return Err(layer.refuse(format!(
                "units {units} is out of range (1..={NET_MAX_UNITS})"
            )));
        }
        _ => {}
    }
    layer.require_str("activation", "tanh", "tanh")?;
    if matches!(layer.class, "LSTM" | "GRU") {
        layer.require_str("recurrent_activation", "sigmoid", "sigmoid")?;
    }
    let cell = match layer.class {
        "LSTM" => Cell::Lstm,
        "GRU" => Cell::Gru {
            // Keras 3 and tf.keras 2 default to True and always write it; tf.keras 1.x wrote False.
            reset_after: match layer.config.get("reset_after") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(
                        layer.refuse(format!("reset_after={other}: expected true or false"))
                    );
                }
            },
        },
        _ => Cell::SimpleRnn,
    };
    layer.require_bool(
        "use_bias",
        true,
        true,
        "fusedrnn's recurrent layers have a bias",
    )?;
    layer.require_bool(
        "return_sequences",
        false,
        false,
        "fusedrnn feeds only the last state to the Dense layer",
    )?;
    layer.require_bool(
        "return_state",
        false,
        false,
        "fusedrnn returns one probability",
    )?;
    layer.require_bool(
        "go_backwards",
        false,
        false,
        "fusedrnn reads the sequence forwards",
    )?;
    layer.require_bool(
        "stateful",
        false,
        false,
        "fusedrnn starts every sequence from a zero state",
    )?;
    layer.require_bool(
        "time_major",
        false,
        false,
        "fusedrnn reads batch-major input",
    )?;
    Ok((cell, units))
}
