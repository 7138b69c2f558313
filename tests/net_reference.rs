//! The general-shape scalar reference (`fusedrnn::net`): against the notebook's fixed-shape
//! reference on the notebook's shapes, against its own `f64` twin on every cell and shape, and
//! the spec's limits.

use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::net::{Cell, Input, NetTables, NetWeights, Spec, WeightsError, reference};
use fusedrnn::shape::SEQ_LEN;

fn tokens(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // A padded front, like pad_sequences.
            if i < n / 4 {
                0
            } else {
                ((x >> 33) % vocab as u64) as u32
            }
        })
        .collect()
}

#[test]
fn notebook_shapes_match_the_fixed_shape_reference() {
    for (cell, input) in [
        (Cell::Lstm, Input::Embedding { width: 16 }),
        (Cell::SimpleRnn, Input::Embedding { width: 16 }),
        (Cell::SimpleRnn, Input::OneHot),
    ] {
        let spec = Spec {
            cell,
            units: 8,
            vocab: 500,
            input,
            seq_len: SEQ_LEN,
        };
        let w = NetWeights::seeded(spec, 7, 0.5);
        let model = w.to_notebook().expect("a notebook shape");
        assert_eq!(
            NetWeights::from_notebook(&model),
            w,
            "round trip through the fixed-shape model"
        );
        let t = NetTables::fold(&w).unwrap();
        for seed in 0..4 {
            let seq = tokens(SEQ_LEN, 500, seed);
            let fixed: [u16; SEQ_LEN] = std::array::from_fn(|i| seq[i] as u16);
            let want = match &model {
                Model::Lstm(m) => {
                    Kernel::Reference.lstm_review(&fusedrnn::kernels::fold_lstm(m), &fixed)
                }
                Model::Rnn(m) => {
                    Kernel::Reference.rnn_review(&fusedrnn::kernels::fold_rnn(m), &fixed)
                }
            };
            let got = reference::prob(&t, &reference::sequence_state(&t, &seq).h);
            assert!(
                (got - want).abs() < 1e-6,
                "{spec}: {got} vs fixed-shape {want}"
            );
        }
    }
}

#[test]
fn every_cell_matches_its_f64_twin() {
    let cells = [
        Cell::SimpleRnn,
        Cell::Lstm,
        Cell::Gru { reset_after: true },
        Cell::Gru { reset_after: false },
    ];
    for cell in cells {
        for (units, input, seq_len, vocab) in [
            (1, Input::Embedding { width: 3 }, 7, 11),
            (16, Input::Embedding { width: 64 }, 50, 5000),
            (32, Input::OneHot, 20, 300),
            (37, Input::Embedding { width: 5 }, 33, 70_000),
        ] {
            let spec = Spec {
                cell,
                units,
                vocab,
                input,
                seq_len,
            };
            for scale in [0.05f32, 0.5] {
                let w = NetWeights::seeded(spec, units as u64, scale);
                let t = NetTables::fold(&w).unwrap();
                let seqs = tokens(3 * seq_len, vocab, 3);
                let mut probs = [0.0f32; 3];
                reference::forward(&t, &seqs, &mut probs);
                for (seq, &p) in seqs.chunks(seq_len).zip(&probs) {
                    let want = reference::forward_f64(&w, seq);
                    assert!(
                        (f64::from(p) - want).abs() < 1e-5,
                        "{spec} scale {scale}: {p} vs f64 {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_reset_gate_placement_matters() {
    // The two GRU forms differ on the same weights (otherwise the test above could not tell
    // them apart); the first layer of each is shared.
    let spec = |reset_after| Spec {
        cell: Cell::Gru { reset_after },
        units: 8,
        vocab: 50,
        input: Input::Embedding { width: 4 },
        seq_len: 30,
    };
    let before = NetWeights::seeded(spec(false), 1, 0.8);
    let mut after = before.clone();
    after.spec = spec(true);
    after.bias.extend(std::iter::repeat_n(0.0, 24));
    before.validate().unwrap();
    after.validate().unwrap();
    let seq = tokens(30, 50, 9);
    let (a, b) = (
        reference::forward_f64(&after, &seq),
        reference::forward_f64(&before, &seq),
    );
    assert!((a - b).abs() > 1e-4, "reset-after {a} vs reset-before {b}");
}

#[test]
fn bad_shapes_and_weights_are_refused_by_name() {
    let ok = Spec {
        cell: Cell::Lstm,
        units: 32,
        vocab: 5000,
        input: Input::Embedding { width: 64 },
        seq_len: 200,
    };
    ok.validate().unwrap();
    // At the embedding's limit (2^28 floats) exactly: accepted.
    Spec {
        vocab: 1 << 24,
        units: 1,
        input: Input::Embedding { width: 16 },
        ..ok
    }
    .validate()
    .unwrap();
    for (spec, field) in [
        (Spec { units: 0, ..ok }, "units"),
        (Spec { units: 257, ..ok }, "units"),
        (
            Spec {
                seq_len: 4097,
                ..ok
            },
            "seq_len",
        ),
        (Spec { vocab: 0, ..ok }, "vocab"),
        (
            Spec {
                input: Input::Embedding { width: 0 },
                ..ok
            },
            "width",
        ),
        (
            Spec {
                vocab: 1 << 24,
                units: 256,
                ..ok
            },
            "vocab",
        ),
        (
            Spec {
                vocab: 1 << 20,
                units: 256,
                input: Input::OneHot,
                ..ok
            },
            "vocab",
        ),
        // Every field within its limit, the embedding 2^36 floats (the trainer would allocate
        // it: 256 GiB).
        (
            Spec {
                vocab: 1 << 24,
                units: 1,
                input: Input::Embedding { width: 4096 },
                ..ok
            },
            "width",
        ),
    ] {
        let e = spec.validate().unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    let mut w = NetWeights::seeded(ok, 1, 0.1);
    w.recurrent_kernel.pop();
    assert!(matches!(
        w.validate(),
        Err(WeightsError::Length {
            tensor: "recurrent_kernel",
            ..
        })
    ));
    let mut w = NetWeights::seeded(ok, 1, 0.1);
    w.bias[5] = f32::NAN;
    let e = NetTables::fold(&w).unwrap_err();
    assert!(
        matches!(
            e,
            WeightsError::NotFinite {
                tensor: "bias",
                index: 5,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("bias"), "{e}");
}
