//! A deterministic synthetic corpus in Keras' exact `imdb.npz` layout, for machines without
//! the real data set: `x_train`/`x_test` are pickled (protocol 4) object arrays of int lists,
//! `y_train`/`y_test` int64, members deflated — so it goes through the same reader as the real
//! file.
//!
//! Its shape follows IMDB: 25,000 + 25,000 reviews, half positive; lengths log-normal with a
//! median of about 175 words and a mean of about 235 (10 to 2,500); word ranks Zipf-like over
//! an 80,000-word vocabulary. The learnable signal: 40 ranks among the 500 most frequent words
//! are sentiment words, 20 positive and 20 negative; about 5% of a review's words are drawn
//! from them, 75% from its own polarity.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use fusedrnn::infer::npy::header_1d;

use crate::numpy_random::RandomState;
use crate::pickle::RaggedInts;

/// What [`generate`] makes.
#[derive(Clone, Copy, Debug)]
pub struct SynthConfig {
    pub train: usize,
    pub test: usize,
    pub vocab: u32,
    pub seed: u32,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            train: 25_000,
            test: 25_000,
            vocab: 80_000,
            seed: 20_111,
        }
    }
}

/// Positive and negative sentiment ranks: fixed, inside `num_words=500` after `index_from=3`.
const POSITIVE: [i32; 20] = [
    41, 47, 53, 59, 67, 73, 83, 97, 109, 127, 149, 163, 179, 199, 227, 251, 283, 317, 359, 401,
];
const NEGATIVE: [i32; 20] = [
    43, 49, 57, 61, 71, 79, 89, 101, 113, 131, 151, 167, 181, 211, 233, 257, 293, 331, 367, 419,
];

/// Generates `(x_train, y_train, x_test, y_test)`.
pub fn generate(cfg: &SynthConfig) -> (RaggedInts, Vec<u8>, RaggedInts, Vec<u8>) {
    let mut rng = RandomState::new(cfg.seed);
    // Zipf(1.07) over ranks 1..=vocab, sampled by inverting the cumulative distribution.
    let mut cdf = Vec::with_capacity(cfg.vocab as usize);
    let mut total = 0.0;
    for r in 1..=cfg.vocab {
        total += 1.0 / f64::from(r).powf(1.07);
        cdf.push(total);
    }
    let mut split = |n: usize| {
        let mut x = RaggedInts {
            values: Vec::with_capacity(n * 240),
            offsets: vec![0],
        };
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let label = (i % 2) as u8;
            // Box–Muller: a standard normal from two uniforms.
            let (u1, u2) = (rng.random_sample().max(1e-12), rng.random_sample());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            let len = (175.0 * (0.77 * z).exp()).round().clamp(10.0, 2500.0) as usize;
            for _ in 0..len {
                let p = rng.random_sample();
                let word = if p < 0.05 {
                    let own = rng.random_sample() < 0.75;
                    let set = if (label == 1) == own {
                        &POSITIVE
                    } else {
                        &NEGATIVE
                    };
                    set[rng.random_interval(19) as usize]
                } else {
                    let u = rng.random_sample() * total;
                    cdf.partition_point(|&c| c < u) as i32 + 1
                };
                x.values.push(word);
            }
            x.offsets.push(x.values.len());
            y.push(label);
        }
        (x, y)
    };
    let (x_train, y_train) = split(cfg.train);
    let (x_test, y_test) = split(cfg.test);
    (x_train, y_train, x_test, y_test)
}

/// The `.npy` bytes numpy writes for a 1-D object array of int lists (version 1.0 header,
/// then `pickle.dumps(arr, protocol=4)` without frames).
pub fn object_array_npy(x: &RaggedInts) -> Vec<u8> {
    let mut out = header_1d("|O", x.rows());
    let p = &mut out;
    let s = |p: &mut Vec<u8>, t: &str| {
        p.push(0x8c);
        p.push(t.len() as u8);
        p.extend(t.as_bytes());
    };
    p.extend([0x80, 4]);
    s(p, "numpy._core.multiarray");
    s(p, "_reconstruct");
    p.push(0x93);
    s(p, "numpy");
    s(p, "ndarray");
    p.extend([
        0x93, b'K', 0, 0x85, b'C', 1, b'b', 0x87, b'R', b'(', b'K', 1, b'J',
    ]);
    p.extend((x.rows() as u32).to_le_bytes());
    p.push(0x85);
    s(p, "numpy");
    s(p, "dtype");
    p.push(0x93);
    s(p, "O8");
    p.extend([0x89, 0x88, 0x87, b'R', b'(', b'K', 3]);
    s(p, "|");
    p.extend([
        b'N', b'N', b'N', b'J', 0xff, 0xff, 0xff, 0xff, b'J', 0xff, 0xff, 0xff, 0xff, b'K', 0x3f,
        b't', b'b', 0x89,
    ]);
    p.push(b']');
    for rows in (0..x.rows()).collect::<Vec<_>>().chunks(1000) {
        p.push(b'(');
        for &r in rows {
            p.push(b']');
            for words in x.row(r).chunks(1000) {
                p.push(b'(');
                for &w in words {
                    match w {
                        0..=0xff => p.extend([b'K', w as u8]),
                        0x100..=0xffff => {
                            p.push(b'M');
                            p.extend((w as u16).to_le_bytes());
                        }
                        _ => {
                            p.push(b'J');
                            p.extend(w.to_le_bytes());
                        }
                    }
                }
                p.push(b'e');
            }
        }
        p.push(b'e');
    }
    p.extend([b't', b'b', b'.']);
    out
}

/// The `.npy` bytes of a 1-D int64 array.
pub fn int64_npy(v: &[u8]) -> Vec<u8> {
    let mut out = header_1d("<i8", v.len());
    for &x in v {
        out.extend(i64::from(x).to_le_bytes());
    }
    out
}

/// The whole `.npz`, members deflated like `np.savez_compressed`.
pub fn npz_bytes(
    x_train: &RaggedInts,
    y_train: &[u8],
    x_test: &RaggedInts,
    y_test: &[u8],
) -> std::io::Result<Vec<u8>> {
    let mut buf = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let members = [
        ("x_test.npy", object_array_npy(x_test)),
        ("x_train.npy", object_array_npy(x_train)),
        ("y_train.npy", int64_npy(y_train)),
        ("y_test.npy", int64_npy(y_test)),
    ];
    for (name, bytes) in members {
        zip.start_file(name, opts).map_err(std::io::Error::other)?;
        zip.write_all(&bytes)?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ImdbArrays;

    #[test]
    fn synthetic_npz_reads_back_through_the_real_reader() {
        let cfg = SynthConfig {
            train: 60,
            test: 40,
            vocab: 5000,
            seed: 3,
        };
        let (xa, ya, xb, yb) = generate(&cfg);
        let npz = npz_bytes(&xa, &ya, &xb, &yb).unwrap();
        let back = ImdbArrays::from_bytes(&npz).unwrap();
        assert_eq!(
            back,
            ImdbArrays {
                x_train: xa,
                y_train: ya,
                x_test: xb,
                y_test: yb
            }
        );
    }

    #[test]
    fn generation_is_deterministic_and_imdb_shaped() {
        let cfg = SynthConfig {
            train: 2000,
            test: 10,
            vocab: 80_000,
            seed: 1,
        };
        let (x, y, _, _) = generate(&cfg);
        assert_eq!(generate(&cfg).0, x);
        let mut lengths: Vec<usize> = (0..x.rows()).map(|r| x.row(r).len()).collect();
        lengths.sort_unstable();
        let median = lengths[lengths.len() / 2];
        assert!((150..200).contains(&median), "median {median}");
        assert_eq!(y.iter().filter(|&&l| l == 1).count(), 1000);
        assert!(x.values.iter().all(|&w| (1..=80_000).contains(&w)));
    }
}
