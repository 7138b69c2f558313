//! `model.summary()` for a network of any shape, in the table Keras 3 prints
//! ([`crate::model::summary::summary_table`]).
//!
//! Parameters, with `V` the vocabulary, `E` the embedding width, `H` the units and `G` the gate
//! blocks (1, 4, 3): Embedding `V·E`; the recurrent layer `G·H·(in + H) + rows·G·H` with `in` = `E`
//! (or `V` on one-hot input) and `rows` = 2 for a reset-after GRU, else 1; Dense `H + 1`.

use super::spec::{Cell, Input, Spec};
use super::weights::NetWeights;
use crate::model::LayerSummary;
use crate::model::summary::summary_table;

impl NetWeights {
    /// The layers in order, as `model.summary()` lists them.
    pub fn layers(&self) -> Vec<LayerSummary> {
        self.spec.layers()
    }

    /// Total parameters.
    pub fn param_count(&self) -> usize {
        self.spec.param_count()
    }

    /// The table Keras 3 prints for `model.summary()` (see [`crate::model::Model::summary`]).
    pub fn summary(&self) -> String {
        summary_table(&self.layers())
    }
}

impl Spec {
    /// The layers of a network of this shape in order, as `model.summary()` lists them.
    pub fn layers(&self) -> Vec<LayerSummary> {
        let s = self;
        let mut layers = Vec::with_capacity(3);
        if let Input::Embedding { width } = s.input {
            layers.push(LayerSummary {
                name: "embedding",
                kind: "Embedding",
                output_shape: format!("(None, {}, {width})", s.seq_len),
                params: s.vocab * width,
            });
        }
        let (name, kind) = match s.cell {
            Cell::SimpleRnn => ("simple_rnn", "SimpleRNN"),
            Cell::Lstm => ("lstm", "LSTM"),
            Cell::Gru { .. } => ("gru", "GRU"),
        };
        let gw = s.gate_width();
        layers.push(LayerSummary {
            name,
            kind,
            output_shape: format!("(None, {})", s.units),
            params: gw * (s.input_width() + s.units) + s.cell.bias_rows() * gw,
        });
        layers.push(LayerSummary {
            name: "dense",
            kind: "Dense",
            output_shape: "(None, 1)".to_owned(),
            params: s.units + 1,
        });
        layers
    }

    /// Total parameters of a network of this shape.
    pub fn param_count(&self) -> usize {
        self.layers().iter().map(|l| l.params).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Spec;

    #[test]
    fn counts_match_keras() {
        // Keras 3: Embedding(5000, 64) 320,000; LSTM(32) 12,416; GRU(32) reset_after 9,408;
        // GRU(32, reset_after=False) 9,312; SimpleRNN(64) on one-hot(500) 36,160; Dense 33 / 65.
        let spec = |cell, units, vocab, input| Spec {
            cell,
            units,
            vocab,
            input,
            seq_len: 200,
        };
        let emb = Input::Embedding { width: 64 };
        let counts = |s: Spec| {
            NetWeights::seeded(s, 1, 0.1)
                .layers()
                .iter()
                .map(|l| l.params)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            counts(spec(Cell::Lstm, 32, 5000, emb)),
            [320_000, 12_416, 33]
        );
        assert_eq!(
            counts(spec(Cell::Gru { reset_after: true }, 32, 5000, emb)),
            [320_000, 9_408, 33]
        );
        assert_eq!(
            counts(spec(Cell::Gru { reset_after: false }, 32, 5000, emb)),
            [320_000, 9_312, 33]
        );
        assert_eq!(
            counts(spec(Cell::SimpleRnn, 64, 500, Input::OneHot)),
            [36_160, 65]
        );
        let w = NetWeights::seeded(spec(Cell::Lstm, 32, 5000, emb), 1, 0.1);
        assert!(
            w.summary()
                .contains("│ lstm (LSTM)                     │ (None, 32)"),
            "{}",
            w.summary()
        );
        assert!(
            w.summary().contains("Total params: 332,449"),
            "{}",
            w.summary()
        );
    }
}
