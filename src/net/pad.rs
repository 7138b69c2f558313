//! The padding cache for any shape: the state after `k` leading pad tokens (id 0), for every
//! `k` from 0 to `seq_len`, stepped once by one kernel.
//!
//! Keras runs every position of a padded sequence, pads included, so a review of 30 words
//! padded to 200 costs 170 steps that give the same state for every such review. A kernel starts
//! a sequence from the cached state after its leading pads instead.
//!
//! The kernel's two paths round differently (the one-sequence path runs the latency forms of
//! the activations, the batch the throughput forms), so the cache holds two tables, each
//! stepped by the path that reads it: [`NetPadCache::state`] by the one-sequence step
//! ([`crate::kernels::Kernel::net_step`]), [`NetPadCache::batch_state`] by the batch pass.
//! Starting from either gives bit for bit what stepping through the pads on that path gives,
//! so a sequence's result from a batch does not depend on the block it lands in.

use super::TokenId;
use super::spec::{Cell, Spec};
use super::tables::{NetState, NetTables};
use crate::kernels::Kernel;

/// States after `0..=seq_len` leading pads, stepped by one kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct NetPadCache {
    spec: Spec,
    kernel: &'static str,
    /// `[seq_len + 1, H + C]`: `h` then (LSTM) `c` of each state, stepped by the one-sequence
    /// step.
    states: Vec<f32>,
    /// The same, stepped by the batch pass.
    batch: Vec<f32>,
}

/// Leading pad tokens (id 0) of `tokens`.
pub fn leading_pads<T: TokenId>(tokens: &[T]) -> usize {
    tokens
        .iter()
        .position(|t| t.index() != 0)
        .unwrap_or(tokens.len())
}

impl NetPadCache {
    /// Steps the zero state through `seq_len` pads with `kernel`'s one-sequence step and with
    /// its batch pass.
    pub fn new(kernel: Kernel, t: &NetTables) -> NetPadCache {
        let spec = *t.spec();
        let mut s = NetState::zeros(&spec);
        let width = s.h.len() + s.c.len();
        let mut states = Vec::with_capacity((spec.seq_len + 1) * width);
        states.extend_from_slice(&s.h);
        states.extend_from_slice(&s.c);
        for _ in 0..spec.seq_len {
            kernel.net_step(t, &mut s, 0u32);
            states.extend_from_slice(&s.h);
            states.extend_from_slice(&s.c);
        }
        NetPadCache {
            spec,
            kernel: kernel.name(),
            states,
            batch: kernel.net_batch_pad_states(t),
        }
    }

    /// The shape the cache was built for.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The name of the kernel whose step built the cache ([`Kernel::name`]).
    pub fn kernel_name(&self) -> &'static str {
        self.kernel
    }

    /// Most pads cached: `seq_len`.
    pub fn max_pads(&self) -> usize {
        self.spec.seq_len
    }

    /// `(h, c)` after `pads` leading pads (`c` empty unless LSTM), stepped by the one-sequence
    /// step. Panics if `pads > seq_len`.
    pub fn state(&self, pads: usize) -> (&[f32], &[f32]) {
        self.row(&self.states, pads)
    }

    /// `(h, c)` after `pads` leading pads, stepped by the batch pass (which starts its blocks
    /// here). Panics if `pads > seq_len`.
    pub fn batch_state(&self, pads: usize) -> (&[f32], &[f32]) {
        self.row(&self.batch, pads)
    }

    fn row<'a>(&self, states: &'a [f32], pads: usize) -> (&'a [f32], &'a [f32]) {
        let h = self.spec.units;
        let c = if self.spec.cell == Cell::Lstm { h } else { 0 };
        states[pads * (h + c)..(pads + 1) * (h + c)].split_at(h)
    }

    /// Overwrites `state` (of this cache's shape) with the state after `pads` leading pads,
    /// allocating nothing. Panics if `pads > seq_len` or `state` has another shape.
    pub fn copy_state_into(&self, pads: usize, state: &mut NetState) {
        let (h, c) = self.state(pads);
        state.h.copy_from_slice(h);
        state.c.copy_from_slice(c);
    }

    /// The state after `pads` leading pads as a [`NetState`]. Panics if `pads > seq_len`.
    pub fn to_state(&self, pads: usize) -> NetState {
        let (h, c) = self.state(pads);
        NetState {
            h: h.to_vec(),
            c: c.to_vec(),
        }
    }
}
