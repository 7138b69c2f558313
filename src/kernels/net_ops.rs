//! The operations for any shape ([`crate::net`]) that pass through the dispatch door: each
//! pairs the scalar reference of [`crate::net::reference`] with its vector body of `net_simd`,
//! written once over [`Isa`].

use super::isa::{Isa, Op};
use std::cell::RefCell;

use super::Kernel;
use super::net_simd::{self, Batch, NetOut, ShapeBody, ShapeVisit, Steps};
use crate::net::{NetPadCache, NetState, NetTables, reference};
use crate::tokfile::TokenIds;

thread_local! {
    /// The vector bodies' scratch (floats, ids), grown once per thread to the largest shape
    /// it has run.
    static SCRATCH: RefCell<(Vec<f32>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `f` with this thread's scratch of at least `net_simd::scratch_floats(units)` floats
/// and `net_simd::scratch_ids(seq_len)` ids (allocated on first use; fresh buffers if the
/// thread's are in use).
#[inline(always)]
pub(crate) fn with_scratch<R>(
    units: usize,
    seq_len: usize,
    f: impl FnOnce(&mut [f32], &mut [u32]) -> R,
) -> R {
    let (floats, ids) = (
        net_simd::scratch_floats(units),
        net_simd::scratch_ids(seq_len),
    );
    // The floats start a cache line (see `net_simd::batch`): room for up to 15 floats before it.
    let room = floats + super::LINE_FLOATS - 1;
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            let (fs, is) = &mut *buf;
            if fs.len() < room {
                fs.resize(room, 0.0);
            }
            if is.len() < ids {
                is.resize(ids, 0);
            }
            f(super::on_line(fs, floats), &mut is[..ids])
        }
        Err(_) => f(
            super::on_line(&mut vec![0.0; room], floats),
            &mut vec![0; ids],
        ),
    })
}

/// An operation for any shape: its scalar reference, and its vector body at the shape's const
/// parameters. [`Kernel::dispatch_shaped`] runs it through [`AtShape`].
pub(crate) trait ShapedOp {
    type Output;
    /// The tables whose shape picks the body.
    fn tables(&self) -> &NetTables;
    /// The scalar reference.
    fn reference(self) -> Self::Output;
    /// The vector body at one shape; implementations must be `#[inline(always)]`.
    fn run_at<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) -> Self::Output;
}

/// `O` at the shape `HC`, `CELL`: an [`Op`] of its own, so every shape's body is compiled into
/// a trampoline of its own on each ISA rather than all shapes into one. Within one function
/// the shapes' code had changed each other's speed: on Zen 4 (family 25 model 17,
/// 2026-12-05) AVX2's reset-after GRU(32) batch ran 418 or 476 cycles per sequence-step with
/// the same code for it, depending on whether the LSTM's arm used the staged cell.
pub(crate) struct AtShape<O, const HC: usize, const CELL: u8>(pub O);

impl<O: ShapedOp, const HC: usize, const CELL: u8> Op for AtShape<O, HC, CELL> {
    type Output = O::Output;
    fn reference(self) -> O::Output {
        self.0.reference()
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> O::Output {
        self.0.run_at::<I, HC, CELL>(isa)
    }
}

impl Kernel {
    /// Runs `op` on this kernel at its tables' shape: [`Kernel::dispatch`] of
    /// [`AtShape`] with the shape's const parameters.
    ///
    /// Inlined into its caller with the shape's match, the scratch and the door, so that a
    /// session's one-token step reaches its body in one call: out of line, those layers cost
    /// LSTM(8) (Embedding(500, 16), Zen 4) 77 ns a token a call against 68 inlined, where the
    /// same steps in one call take 39 (an empty call: 20 ns against 15).
    #[inline(always)]
    pub(crate) fn dispatch_shaped<O: ShapedOp>(self, op: O) -> O::Output {
        struct Door<O>(Kernel, O);
        // The doors of `Kernel::dispatch` and `Kernel::dispatch_8_lanes`, but for the portable
        // kernel's, out of line here ([`super::portable::dispatch`]). Matched here rather than
        // through those functions: unoptimised, their inlined portable arm keeps its frame
        // slots even where it is never taken (2.3 MB in `Kernel::net_steps_ids`' closure).
        impl<O: ShapedOp> ShapeVisit for Door<O> {
            type Output = O::Output;
            #[inline(always)]
            fn at<const HC: usize, const CELL: u8>(self) -> O::Output {
                #[cfg(target_arch = "x86_64")]
                if let Kernel::Avx512(cpu) = self.0 {
                    return super::x86_64_avx512::dispatch(cpu, AtShape::<O, HC, CELL>(self.1));
                }
                // The other kernels' doors are 8 lanes' (its AVX-512 arm is not taken from here).
                self.at_8_lanes::<HC, CELL>()
            }
            #[inline(always)]
            fn at_8_lanes<const HC: usize, const CELL: u8>(self) -> O::Output {
                let op = AtShape::<O, HC, CELL>(self.1);
                match self.0 {
                    Kernel::Reference => op.reference(),
                    Kernel::Portable => super::portable::dispatch(op),
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx2Fma(cpu) => super::x86_64_avx2_fma::dispatch(cpu, op),
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx512(cpu) => {
                        super::x86_64_avx2_fma::dispatch(super::isa::Isa::x8(cpu), op)
                    }
                }
            }
        }
        let spec = op.tables().spec();
        net_simd::by_shape(spec.cell, spec.units, Door(self, op))
    }
}

/// A batch `[n, seq_len]`: probabilities, final hidden states, or (from zeros, no cache) the
/// states after every step of the first sequence.
pub(crate) struct NetForward<'a> {
    pub t: &'a NetTables,
    pub pads: Option<&'a NetPadCache>,
    pub seqs: TokenIds<'a>,
    pub out: NetOut<'a>,
    /// At least `net_simd::scratch_floats(units)` floats (see [`with_scratch`]).
    pub scratch: &'a mut [f32],
    /// At least `net_simd::scratch_ids(seq_len)` ids.
    pub ids: &'a mut [u32],
}

impl ShapedOp for NetForward<'_> {
    type Output = ();
    fn tables(&self) -> &NetTables {
        self.t
    }
    fn reference(self) {
        let NetForward {
            t, seqs, mut out, ..
        } = self;
        let (h, len) = (t.spec().units, t.spec().seq_len);
        if let NetOut::States(o) = out {
            // The reference's padding cache: its own step, as the latency path's.
            let mut s = NetState::zeros(t.spec());
            let mut scratch = Vec::new();
            let w = s.h.len() + s.c.len();
            o[..w].fill(0.0);
            for (step, tok) in seqs.slice(0..len).iter().enumerate() {
                reference::step(t, &mut s, tok as usize, &mut scratch);
                let (ho, co) = o[(step + 1) * w..(step + 2) * w].split_at_mut(h);
                ho.copy_from_slice(&s.h);
                co.copy_from_slice(&s.c);
            }
            return;
        }
        for i in 0..seqs.len() / len {
            let s = match seqs.slice(i * len..(i + 1) * len) {
                TokenIds::U16(seq) => reference::sequence_state(t, seq),
                TokenIds::U32(seq) => reference::sequence_state(t, seq),
            };
            match out {
                NetOut::Probs(ref mut p) => p[i] = reference::prob(t, &s.h),
                NetOut::Hidden(ref mut o) => o[i * h..(i + 1) * h].copy_from_slice(&s.h),
                NetOut::States(_) => unreachable!("handled above"),
            }
        }
    }
    #[inline(always)]
    fn run_at<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) {
        let job = Batch {
            t: self.t,
            pads: self.pads,
            seqs: self.seqs,
            out: self.out,
            scratch: self.scratch,
            ids: self.ids,
        };
        job.run::<I, HC, CELL>(isa);
    }
}

/// [`NetForward`] with every row in a block of its own ([`net_simd::Alone`]): a batch's last
/// few rows.
pub(crate) struct NetForwardAlone<'a>(pub NetForward<'a>);

impl ShapedOp for NetForwardAlone<'_> {
    type Output = ();
    fn tables(&self) -> &NetTables {
        self.0.t
    }
    fn reference(self) {
        self.0.reference();
    }
    #[inline(always)]
    fn run_at<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) {
        let f = self.0;
        let job = net_simd::Alone(Batch {
            t: f.t,
            pads: f.pads,
            seqs: f.seqs,
            out: f.out,
            scratch: f.scratch,
            ids: f.ids,
        });
        job.run::<I, HC, CELL>(isa);
    }
}

/// One sequence's state stepped through `tokens` (the latency path).
pub(crate) struct NetSteps<'a> {
    pub t: &'a NetTables,
    pub state: &'a mut NetState,
    pub tokens: TokenIds<'a>,
    /// As [`NetForward::scratch`].
    pub scratch: &'a mut [f32],
    /// As [`NetForward::ids`].
    pub ids: &'a mut [u32],
}

impl ShapedOp for NetSteps<'_> {
    type Output = ();
    fn tables(&self) -> &NetTables {
        self.t
    }
    fn reference(self) {
        let mut scratch = Vec::new();
        for tok in self.tokens.iter() {
            reference::step(self.t, self.state, tok as usize, &mut scratch);
        }
    }
    #[inline(always)]
    fn run_at<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) {
        let job = Steps {
            t: self.t,
            h: &mut self.state.h,
            c: &mut self.state.c,
            tokens: self.tokens,
            scratch: self.scratch,
            ids: self.ids,
        };
        job.run::<I, HC, CELL>(isa);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_starts_a_cache_line_also_when_the_threads_is_in_use() {
        for units in [1, 17, 32, 64, 256] {
            with_scratch(units, 50, |fs, ids| {
                assert_eq!(fs.len(), net_simd::scratch_floats(units));
                assert_eq!(ids.len(), net_simd::scratch_ids(50));
                assert_eq!(fs.as_ptr() as usize % 64, 0, "units {units}");
                // Nested: the thread's buffer is borrowed, so this one is fresh.
                with_scratch(units, 3, |inner, _| {
                    assert_eq!(inner.len(), net_simd::scratch_floats(units));
                    assert_eq!(inner.as_ptr() as usize % 64, 0, "units {units}, nested");
                });
            });
        }
    }
}
