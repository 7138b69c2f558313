//! The general-shape batch kernels' share of this machine's FMA peak (issue 14's speed
//! target), measured side by side in one run so the ratios hold on a loaded machine.
//!
//! ```text
//! cargo run --release --example net_fma_share [-- SECONDS_PER_POINT]
//! ```
//!
//! 1. **Peak**: a tight loop of 12 independent FMA chains per ISA (AVX2 `ymm`, AVX-512 `zmm`),
//!    in multiply-adds (MACs) per nanosecond; and the clock, from one dependent FMA chain
//!    (4 cycles per FMA on this family of cores).
//! 2. **Kernels**: for each available kernel, cell and size, one thread, 512 sequences of 200
//!    tokens without pads (every step computed), `Kernel::net_forward`.
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

/// Best of 5 timings of `f`, in nanoseconds.
fn best_ns(mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e9
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.3);
    // Peak (MACs per ns per ISA) and clock (cycles per ns).
    let mut peaks: Vec<(&str, f64)> = Vec::new();
    let mut ghz = f64::NAN;
    #[cfg(target_arch = "x86_64")]
    {
        let iters = 20_000_000u64;
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            let ns = best_ns(|| {
                // SAFETY: AVX2 and FMA were just detected.
                black_box(unsafe { probe::ymm(black_box(iters)) });
            });
            peaks.push(("ymm (AVX2+FMA)", (iters * 12 * 8) as f64 / ns));
            let ns = best_ns(|| {
                // SAFETY: AVX2 and FMA were just detected.
                black_box(unsafe { probe::chain(black_box(iters)) });
            });
            ghz = 4.0 * iters as f64 / ns;
        }
        if is_x86_feature_detected!("avx512f") {
            let ns = best_ns(|| {
                // SAFETY: AVX-512F was just detected.
                black_box(unsafe { probe::zmm(black_box(iters)) });
            });
            peaks.push(("zmm (AVX-512)", (iters * 12 * 16) as f64 / ns));
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
    println!("clock (dependent FMA chain, 4 cycles each): {ghz:.2} GHz");
    let peak = peaks.iter().map(|p| p.1).fold(0.0, f64::max);
    for (name, p) in &peaks {
        println!(
            "FMA peak {name}: {p:.1} MACs/ns = {:.1} MACs/cycle",
            p / ghz
        );
    }
    let peak_per_cycle = peak / ghz;
    println!(
        "\n{:<16} {:<8} {:>5} {:>12} {:>10} {:>10}",
        "kernel", "cell", "units", "reviews/s", "cyc/step", "FMA share"
    );
    let (n, len) = (512usize, 200usize);
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
                let mut best = f64::INFINITY;
                while Instant::now() < deadline || best.is_infinite() {
                    let ns = best_ns(|| k.net_forward(&t, &pads, &ids, &mut probs));
                    best = best.min(ns);
                }
                black_box(&probs);
                let steps = (n * len) as f64;
                let cyc = best * ghz / steps;
                let g = cell.gates() as f64;
                let h = units as f64;
                let macs = g * h * h + g * h;
                println!(
                    "{:<16} {:<8} {:>5} {:>12.0} {:>10.1} {:>9.1}%",
                    k.name(),
                    cell.name(),
                    units,
                    n as f64 / best * 1e9,
                    cyc,
                    100.0 * macs / (peak_per_cycle * cyc)
                );
            }
        }
    }
}
