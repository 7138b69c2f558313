//! `model.summary()` as Keras 3 prints it for the notebook's Sequential models, and parameter counts.
//!
//! Parameter counts, with `V` the vocabulary (500 in the notebook), `E` = 16, `H` = 8:
//! Embedding `V·E`; LSTM `4H·(E + H + 1)` = 800; SimpleRNN `H·(E + H + 1)` = 200, or `H·(V + H + 1)`
//! = 4,072 on one-hot input; Dense `H + 1` = 9. Totals: lstm 8,809, rnn 8,209, rnn-onehot 4,081.

use super::{Arch, Model};
use crate::shape::{EMBED, GATES, HIDDEN, SEQ_LEN};

/// One row of the summary table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// Keras' layer name, e.g. `lstm`.
    pub name: &'static str,
    /// Keras' layer class, e.g. `LSTM`.
    pub kind: &'static str,
    /// Keras' output shape, e.g. `(None, 100, 16)`.
    pub output_shape: String,
    /// Trainable parameters (all of them are).
    pub params: usize,
}

/// Inner widths of Keras 3's three columns (content plus one space each side), as it prints them
/// at its default line length.
const WIDTHS: [usize; 3] = [33, 24, 15];

impl Model {
    /// The layers in order, as `model.summary()` lists them.
    pub fn layers(&self) -> Vec<LayerSummary> {
        let v = self.vocab();
        let embedding = LayerSummary {
            name: "embedding",
            kind: "Embedding",
            output_shape: format!("(None, {SEQ_LEN}, {EMBED})"),
            params: v * EMBED,
        };
        let recurrent = |name, kind, params| LayerSummary {
            name,
            kind,
            output_shape: format!("(None, {HIDDEN})"),
            params,
        };
        let mut layers = match self.arch() {
            Arch::Lstm => vec![
                embedding,
                recurrent("lstm", "LSTM", GATES * (EMBED + HIDDEN + 1)),
            ],
            Arch::Rnn => vec![
                embedding,
                recurrent("simple_rnn", "SimpleRNN", HIDDEN * (EMBED + HIDDEN + 1)),
            ],
            Arch::RnnOneHot => vec![recurrent(
                "simple_rnn",
                "SimpleRNN",
                HIDDEN * (v + HIDDEN + 1),
            )],
        };
        layers.push(LayerSummary {
            name: "dense",
            kind: "Dense",
            output_shape: "(None, 1)".to_owned(),
            params: HIDDEN + 1,
        });
        layers
    }

    /// Total parameters: 8,809 (lstm), 8,209 (rnn), 4,081 (rnn-onehot) for the notebook's vocabulary.
    pub fn param_count(&self) -> usize {
        self.layers().iter().map(|l| l.params).sum()
    }

    /// The table Keras 3 prints for `model.summary()`, without its colours, e.g. for the LSTM:
    ///
    /// ```text
    /// Model: "sequential"
    /// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    /// ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    /// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    /// │ embedding (Embedding)           │ (None, 100, 16)        │         8,000 │
    /// ├─────────────────────────────────┼────────────────────────┼───────────────┤
    /// │ lstm (LSTM)                     │ (None, 8)              │           800 │
    /// ├─────────────────────────────────┼────────────────────────┼───────────────┤
    /// │ dense (Dense)                   │ (None, 1)              │             9 │
    /// └─────────────────────────────────┴────────────────────────┴───────────────┘
    ///  Total params: 8,809 (34.41 KB)
    ///  Trainable params: 8,809 (34.41 KB)
    ///  Non-trainable params: 0 (0.00 B)
    /// ```
    pub fn summary(&self) -> String {
        summary_table(&self.layers())
    }
}

/// The table of [`Model::summary`] for any list of layers (the general networks' summary too).
pub fn summary_table(layers: &[LayerSummary]) -> String {
    {
        let rule = |left: &str, fill: &str, mid: &str, right: &str| {
            let parts: Vec<String> = WIDTHS.iter().map(|&w| fill.repeat(w)).collect();
            format!("{left}{}{right}\n", parts.join(mid))
        };
        let row = |bar: &str, cells: [&str; 3]| {
            format!(
                "{bar} {:<w0$} {bar} {:<w1$} {bar} {:>w2$} {bar}\n",
                cells[0],
                cells[1],
                cells[2],
                w0 = WIDTHS[0] - 2,
                w1 = WIDTHS[1] - 2,
                w2 = WIDTHS[2] - 2,
            )
        };

        let mut out = String::from("Model: \"sequential\"\n");
        out += &rule("┏", "━", "┳", "┓");
        out += &row("┃", ["Layer (type)", "Output Shape", "Param #"]);
        out += &rule("┡", "━", "╇", "┩");
        for (i, layer) in layers.iter().enumerate() {
            if i > 0 {
                out += &rule("├", "─", "┼", "┤");
            }
            let name = format!("{} ({})", layer.name, layer.kind);
            out += &row("│", [&name, &layer.output_shape, &thousands(layer.params)]);
        }
        out += &rule("└", "─", "┴", "┘");
        let total: usize = layers.iter().map(|l| l.params).sum();
        let line = |label: &str, n: usize| {
            format!(
                " {label}: {} ({})\n",
                thousands(n),
                readable_bytes(n * size_of::<f32>())
            )
        };
        out += &line("Total params", total);
        out += &line("Trainable params", total);
        out += &line("Non-trainable params", 0);
        out
    }
}

/// `8809` → `8,809` (Python's `{:,}`).
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Keras' `readable_memory_size`: divide by 1024 while the value is at least 1024, two decimals.
pub fn readable_bytes(bytes: usize) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut size = bytes as f64;
    for unit in &UNITS[..UNITS.len() - 1] {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} {}", UNITS[UNITS.len() - 1])
}
