//! Folded weights for any shape: what the general kernels read.
//!
//! ```text
//! input[v]  = E[v]·W + b_in (+ b_rec for a reset-after GRU's z and r gates)   [vocab, G·H]
//!             (one-hot: W[v] + b_in)
//! recurrent = U                                                             [H, G·H]
//! rec_bias  = b_rec of a reset-after GRU's candidate gate (it sits inside r ⊙ (h·U_h + b_rh))  [H]
//! ```
//!
//! Rows keep Keras' column order (gate-major, unit-minor), so a gate of all units is contiguous.
//!
//! The vector kernels also read `U` with each gate block padded with zero columns to a multiple
//! of [`NetTables::LANE_PAD`] (`recurrent_lanes [H, G·pad(H)]`), so every load of a row of
//! `U` is a whole vector of 8 or 16 lanes whatever `H` is.

use super::spec::{Cell, Input, Spec};
use super::weights::{NetWeights, WeightsError};
use crate::kernels::LineFloats;
use crate::kernels::gemm::sgemm;

/// Folded weights of a validated [`NetWeights`].
#[derive(Clone, Debug, PartialEq)]
pub struct NetTables {
    spec: Spec,
    input: LineFloats,
    recurrent: Vec<f32>,
    recurrent_lanes: LineFloats,
    rec_bias: Vec<f32>,
    dense_kernel: Vec<f32>,
    dense_bias: f32,
}

/// The state of one sequence: `h`, and `c` for an LSTM (empty otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct NetState {
    pub h: Vec<f32>,
    pub c: Vec<f32>,
}

impl NetState {
    /// The zero state of a network of this shape.
    pub fn zeros(spec: &Spec) -> NetState {
        let c = if spec.cell == Cell::Lstm {
            spec.units
        } else {
            0
        };
        NetState {
            h: vec![0.0; spec.units],
            c: vec![0.0; c],
        }
    }

    /// Whether this state has the lengths of a network of this shape (`h`: units; `c`: units
    /// for an LSTM, empty otherwise). Allocates nothing.
    pub fn fits(&self, spec: &Spec) -> bool {
        let c = if spec.cell == Cell::Lstm {
            spec.units
        } else {
            0
        };
        self.h.len() == spec.units && self.c.len() == c
    }
}

impl NetTables {
    /// The gate blocks of [`Self::recurrent_lanes`] are padded to a multiple of this many
    /// columns (the widest vector, AVX-512's 16 lanes).
    pub const LANE_PAD: usize = 16;

    /// Validates `w` and folds it (one `sgemm` for an embedding input).
    pub fn fold(w: &NetWeights) -> Result<NetTables, WeightsError> {
        w.validate()?;
        let s = w.spec;
        let (gw, h) = (s.gate_width(), s.units);
        let mut input = LineFloats::zeros(s.vocab * gw);
        match s.input {
            Input::Embedding { width } => {
                sgemm(s.vocab, width, gw, &w.embedding, &w.kernel, 0.0, &mut input)
            }
            Input::OneHot => input.copy_from_slice(&w.kernel),
        }
        let mut b_in = w.bias[..gw].to_vec();
        let mut rec_bias = Vec::new();
        if s.cell == (Cell::Gru { reset_after: true }) {
            let b_rec = &w.bias[gw..];
            // z and r: σ(x·W + b_in + h·U + b_rec): the recurrent bias folds into the row.
            for k in 0..2 * h {
                b_in[k] += b_rec[k];
            }
            rec_bias = b_rec[2 * h..].to_vec();
        }
        for row in input.chunks_exact_mut(gw) {
            for (x, b) in row.iter_mut().zip(&b_in) {
                *x += b;
            }
        }
        let pad = s.units.div_ceil(Self::LANE_PAD) * Self::LANE_PAD;
        let gates = s.cell.gates();
        let stride = Self::lanes_row_stride(s.units, gates);
        let mut recurrent_lanes = LineFloats::zeros(h * stride);
        for (dst, src) in recurrent_lanes
            .chunks_exact_mut(stride)
            .zip(w.recurrent_kernel.chunks_exact(gates * h))
        {
            for (d, s) in dst.chunks_exact_mut(pad).zip(src.chunks_exact(h)) {
                d[..h].copy_from_slice(s);
            }
        }
        Ok(NetTables {
            spec: s,
            input,
            recurrent: w.recurrent_kernel.clone(),
            recurrent_lanes,
            rec_bias,
            dense_kernel: w.dense_kernel.clone(),
            dense_bias: w.dense_bias,
        })
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The folded input row of token `v` (`G·H` values). Panics if `v ≥ vocab`.
    #[inline(always)]
    pub fn input_row(&self, v: usize) -> &[f32] {
        let gw = self.spec.gate_width();
        &self.input[v * gw..(v + 1) * gw]
    }

    /// `U [H, G·H]`, row-major.
    pub fn recurrent(&self) -> &[f32] {
        &self.recurrent
    }

    /// `U` with each gate block of each row padded with zeros to `pad(H)` =
    /// `H` rounded up to a multiple of [`Self::LANE_PAD`], each row starting
    /// [`Self::lanes_row_stride`] floats after the last: `[H, stride]`, row-major.
    pub fn recurrent_lanes(&self) -> &[f32] {
        &self.recurrent_lanes
    }

    /// The row stride of [`Self::recurrent_lanes`] for `units` units of `gates` gates:
    /// `G·pad(H)` floats, plus one 64-byte line of zeros where that is an even number of
    /// lines and `U` is larger than a 32 KiB L1, so that its rows start an odd number of lines
    /// apart.
    ///
    /// Why: a tile of the product reads one column panel of `U`, the same few lines of every
    /// row. Rows a power-of-two multiple of lines apart put those lines in a fraction of the
    /// L1's sets (LSTM(64), 1 KiB a row: a quarter of them on a 64-set L1), where they evict
    /// each other although the panel would fit; an odd stride spreads every panel over all
    /// sets, so that the one-sequence path's snake order keeps the panels it read last
    /// (`kernels/net_simd.rs`, `Tiles`). A `U` that fits L1 keeps its stride.
    pub const fn lanes_row_stride(units: usize, gates: usize) -> usize {
        let row = gates * units.div_ceil(Self::LANE_PAD) * Self::LANE_PAD;
        let over_l1 = units * row * size_of::<f32>() > 32 << 10;
        if over_l1 && (row / Self::LANE_PAD).is_multiple_of(2) {
            row + Self::LANE_PAD
        } else {
            row
        }
    }

    /// `H` rounded up to a multiple of [`Self::LANE_PAD`]: the gate stride of
    /// [`Self::recurrent_lanes`].
    pub fn padded_units(&self) -> usize {
        self.spec.units.div_ceil(Self::LANE_PAD) * Self::LANE_PAD
    }

    /// A reset-after GRU's candidate recurrent bias `b_rh [H]`; empty for other cells.
    pub fn rec_bias(&self) -> &[f32] {
        &self.rec_bias
    }

    pub fn dense_kernel(&self) -> &[f32] {
        &self.dense_kernel
    }

    pub fn dense_bias(&self) -> f32 {
        self.dense_bias
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_kernels_tables_start_a_cache_line_and_so_do_their_clones() {
        for (cell, units) in [
            (Cell::Lstm, 32),
            (Cell::Gru { reset_after: true }, 17),
            (Cell::SimpleRnn, 1),
        ] {
            let spec = Spec {
                cell,
                units,
                vocab: 37,
                input: Input::Embedding { width: 5 },
                seq_len: 4,
            };
            // Other allocations first, so the allocator's placement varies from shape to shape.
            let noise: Vec<Vec<f32>> = (1..9).map(|n| vec![0.0; n * units]).collect();
            let w = NetWeights::seeded(spec, 7, 0.3);
            let t = NetTables::fold(&w).unwrap();
            let copy = t.clone();
            for tables in [&t, &copy] {
                assert_eq!(
                    tables.input_row(0).as_ptr() as usize % 64,
                    0,
                    "{cell:?} {units}: input"
                );
                assert_eq!(
                    tables.recurrent_lanes().as_ptr() as usize % 64,
                    0,
                    "{cell:?} {units}: U"
                );
                assert_eq!(tables.input_row(36).len(), spec.gate_width());
            }
            assert_eq!(copy, t);
            assert_eq!(&*copy.input, &*t.input);
            drop(noise);
        }
    }
}
