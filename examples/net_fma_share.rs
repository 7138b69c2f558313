//! The general-shape batch kernels' share of this machine's FMA peak (issue 14's speed
//! target), measured side by side in one run so the ratios hold on a loaded machine.
//!
//! ```text
//! cargo run --release --example net_fma_share [-- SECONDS_PER_POINT [FILTER]]
//! ```
//!
//! `FILTER` keeps only the rows whose `kernel/cell/units` contains it (e.g. `avx2-fma/lstm/32`).
//!
//! With a third argument `REPS`, it only runs the matching kernels (or, for the filters
//! `probe-ymm` / `probe-zmm`, that probe) `REPS` times and prints the work done, for
//! `perf stat -e cycles:u`, whose per-process cycle count the other processes of a loaded
//! machine do not inflate: cycles per sequence-step and MACs per cycle then come straight from
//! the counter.
//!
//! 1. **Peak**: a tight loop of 12 independent FMA chains per ISA (AVX2 `ymm`, AVX-512 `zmm`),
//!    in multiply-adds (MACs) per nanosecond; and the clock, from one dependent FMA chain
//!    (4 cycles per FMA on this family of cores).
//! 2. **Kernels**: for each available kernel, cell and size, one thread, 512 sequences of 200
//!    tokens without pads (every step computed), `Kernel::net_forward`.
//! 3. **Latency**: one review (`Kernel::net_sequence`), fastest of many windows of 20 calls,
//!    in µs and cycles per step (rows `latency/kernel/cell/units` for `FILTER`).
//!
//! Per size it prints cycles per sequence-step and the FMA share
//! `(G·H² + G·H) MACs per sequence-step / (best peak MACs per cycle × cycles per step)`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fusedrnn::kernels::Kernel;
use fusedrnn::net::{Cell, Input, NetTables, NetWeights, Spec};

#[cfg(target_arch = "x86_64")]
mod probe {
    use core::arch::x86_64::*;

    /// 12 independent chains of `iters` FMAs on `ymm` registers.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn ymm(iters: u64) -> f32 {
        let mut a = [_mm256_set1_ps(1.0); 12];
        let b = _mm256_set1_ps(0.999_999);
        let c = _mm256_set1_ps(1e-7);
        for _ in 0..iters {
            for x in &mut a {
                *x = _mm256_fmadd_ps(*x, b, c);
            }
        }
        let mut s = _mm256_setzero_ps();
        for x in a {
            s = _mm256_add_ps(s, x);
        }
        _mm256_cvtss_f32(s)
    }

    /// 12 independent chains of `iters` FMAs on `zmm` registers.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn zmm(iters: u64) -> f32 {
        let mut a = [_mm512_set1_ps(1.0); 12];
        let b = _mm512_set1_ps(0.999_999);
        let c = _mm512_set1_ps(1e-7);
        for _ in 0..iters {
            for x in &mut a {
                *x = _mm512_fmadd_ps(*x, b, c);
            }
        }
        let mut s = _mm512_setzero_ps();
        for x in a {
            s = _mm512_add_ps(s, x);
        }
        _mm512_reduce_add_ps(s)
    }

    /// One dependent chain of `iters` FMAs (4-cycle latency each).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn chain(iters: u64) -> f32 {
        let mut a = _mm256_set1_ps(1.0);
        let b = _mm256_set1_ps(0.999_999);
        let c = _mm256_set1_ps(1e-7);
        for _ in 0..iters {
            a = _mm256_fmadd_ps(a, b, c);
        }
        _mm256_cvtss_f32(a)
    }
}

/// Best of 3 timings of `f`, in nanoseconds.
fn best_ns(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e9
        })
        .fold(f64::INFINITY, f64::min)
}

/// The peak probes: (name, MACs per call, the call).
#[allow(clippy::type_complexity)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))] // only x86-64 has probes to push
fn probes() -> (
    Vec<(&'static str, f64, Box<dyn Fn()>)>,
    Option<Box<dyn Fn()>>,
) {
    let mut peaks: Vec<(&'static str, f64, Box<dyn Fn()>)> = Vec::new();
    let mut chain: Option<Box<dyn Fn()>> = None;
    #[cfg(target_arch = "x86_64")]
    {
        const ITERS: u64 = 1_000_000;
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            peaks.push((
                "ymm",
                (ITERS * 12 * 8) as f64,
                Box::new(|| {
                    // SAFETY: AVX2 and FMA were just detected.
                    black_box(unsafe { probe::ymm(black_box(ITERS)) });
                }),
            ));
            chain = Some(Box::new(|| {
                // SAFETY: AVX2 and FMA were just detected.
                black_box(unsafe { probe::chain(black_box(ITERS)) });
            }));
        }
        if is_x86_feature_detected!("avx512f") {
            peaks.push((
                "zmm",
                (ITERS * 12 * 16) as f64,
                Box::new(|| {
                    // SAFETY: AVX-512F was just detected.
                    black_box(unsafe { probe::zmm(black_box(ITERS)) });
                }),
            ));
        }
    }
    (peaks, chain)
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    let filter = std::env::args().nth(2).unwrap_or_default();
    let (peaks, chain) = probes();
    let reps: Option<usize> = std::env::args().nth(3).and_then(|s| s.parse().ok());
    if let Some(reps) = reps {
        for (name, macs, f) in &peaks {
            if filter == format!("probe-{name}") {
                (0..reps).for_each(|_| f());
                println!("{name}: {} MACs", macs * reps as f64);
            }
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load.trim());
    println!(
        "Each point alternates the kernel with the FMA probes and the clock probe for {secs} s and \
         keeps the best of each, so the ratios compare like with like on a loaded machine."
    );
    println!(
        "\n{:<16} {:<7} {:>5} {:>10} {:>6} {:>9} {:>11} {:>11}",
        "kernel", "cell", "units", "reviews/s", "GHz", "cyc/step", "share ymm", "share zmm"
    );
    let (n, len) = (96usize, 200usize);
    let ids: Vec<u32> = (0..n * len)
        .map(|i| 1 + (i as u32).wrapping_mul(2_654_435_761) % 4999)
        .collect();
    let mut probs = vec![0.0f32; n];
    let cells = [
        Cell::Lstm,
        Cell::Gru { reset_after: true },
        Cell::Gru { reset_after: false },
        Cell::SimpleRnn,
    ];
    for k in Kernel::available() {
        if matches!(k, Kernel::Reference) {
            continue;
        }
        for cell in cells {
            for units in [8, 16, 17, 32, 64, 100] {
                if !format!("{}/{}/{units}", k.name(), cell.name()).contains(&filter) {
                    continue;
                }
                let spec = Spec {
                    cell,
                    units,
                    vocab: 5000,
                    input: Input::Embedding { width: 64 },
                    seq_len: len,
                };
                let t = NetTables::fold(&NetWeights::seeded(spec, 1, 0.1)).unwrap();
                let pads = k.net_pad_cache(&t);
                if let Some(reps) = reps {
                    (0..reps).for_each(|_| k.net_forward(&t, &pads, &ids, &mut probs));
                    let g = cell.gates() as f64;
                    let h = units as f64;
                    let steps = (reps * n * len) as f64;
                    println!(
                        "{}/{}/{units}: {steps} sequence-steps, {} MACs",
                        k.name(),
                        cell.name(),
                        (g * h * h + g * h) * steps
                    );
                    continue;
                }
                let deadline = Instant::now() + Duration::from_secs_f64(secs);
                let mut best = f64::INFINITY;
                let mut peak_ns = vec![f64::INFINITY; peaks.len()];
                let mut chain_ns = f64::INFINITY;
                while Instant::now() < deadline || best.is_infinite() {
                    best = best.min(best_ns(|| k.net_forward(&t, &pads, &ids, &mut probs)));
                    for (p, (_, _, f)) in peak_ns.iter_mut().zip(&peaks) {
                        *p = p.min(best_ns(f));
                    }
                    if let Some(f) = &chain {
                        chain_ns = chain_ns.min(best_ns(f));
                    }
                }
                black_box(&probs);
                let ghz = 4.0 * 1e6 / chain_ns;
                let steps = (n * len) as f64;
                let g = cell.gates() as f64;
                let h = units as f64;
                let macs_per_ns = (g * h * h + g * h) * steps / best;
                let share = |name: &str| {
                    peaks
                        .iter()
                        .zip(&peak_ns)
                        .find(|((p, _, _), _)| *p == name)
                        .map(|((_, macs, _), ns)| {
                            format!("{:.1}%", 100.0 * macs_per_ns / (macs / ns))
                        })
                        .unwrap_or_else(|| "-".into())
                };
                println!(
                    "{:<16} {:<7} {:>5} {:>10.0} {:>6.2} {:>9.1} {:>11} {:>11}",
                    k.name(),
                    cell.name(),
                    units,
                    n as f64 / best * 1e9,
                    ghz,
                    best * ghz / steps,
                    share("ymm"),
                    share("zmm"),
                );
            }
        }
    }
    latency(secs, &filter, chain.as_deref());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
}

/// One-review latency (`Kernel::net_sequence`, one sequence of 200 tokens without pads): the
/// fastest of many short windows, alternated with the clock probe. Rows are named
/// `latency/kernel/cell/units` for `FILTER`.
fn latency(secs: f64, filter: &str, chain: Option<&dyn Fn()>) {
    let len = 200usize;
    let ids: Vec<u32> = (0..len)
        .map(|i| 1 + (i as u32).wrapping_mul(2_654_435_761) % 4999)
        .collect();
    println!(
        "\n{:<24} {:<7} {:>5} {:>12} {:>6} {:>9}",
        "latency kernel", "cell", "units", "µs/review", "GHz", "cyc/step"
    );
    for k in Kernel::available() {
        if matches!(k, Kernel::Reference) {
            continue;
        }
        for cell in [Cell::Lstm, Cell::Gru { reset_after: true }, Cell::SimpleRnn] {
            for units in [16, 32, 64] {
                if !format!("latency/{}/{}/{units}", k.name(), cell.name()).contains(filter) {
                    continue;
                }
                let spec = Spec {
                    cell,
                    units,
                    vocab: 5000,
                    input: Input::Embedding { width: 64 },
                    seq_len: len,
                };
                let t = NetTables::fold(&NetWeights::seeded(spec, 1, 0.1)).unwrap();
                let pads = k.net_pad_cache(&t);
                let deadline = Instant::now() + Duration::from_secs_f64(secs);
                let (mut best, mut chain_ns) = (f64::INFINITY, f64::INFINITY);
                while Instant::now() < deadline || best.is_infinite() {
                    let window = best_ns(|| {
                        for _ in 0..20 {
                            black_box(k.net_sequence(&t, &pads, black_box(&ids[..])));
                        }
                    });
                    best = best.min(window / 20.0);
                    if let Some(f) = chain {
                        chain_ns = chain_ns.min(best_ns(f));
                    }
                }
                let ghz = 4.0 * 1e6 / chain_ns;
                println!(
                    "{:<24} {:<7} {:>5} {:>12.2} {:>6.2} {:>9.1}",
                    format!("latency/{}", k.name()),
                    cell.name(),
                    units,
                    best / 1e3,
                    ghz,
                    best * ghz / len as f64,
                );
            }
        }
    }
}
