//! The weights `benches/net.rs` times, and fusedrnn's probabilities on its first rows, as JSON:
//! `benches/peers/shapes.py --fusedrnn-dump` loads them into PyTorch so that the peers run the
//! same weights, and checks PyTorch's probabilities against fusedrnn's (within 1e-5) first.
//!
//! ```text
//! cargo run --release --example net_dump -- OUT_DIR
//! ```
//!
//! Writes `OUT_DIR/lstm32.json` and `OUT_DIR/gru32.json`: the spec, the Keras tensors
//! (`NetWeights::tensors`, flat, row-major), and `probs` for the first 64 rows of the bench's ids
//! (the kernel `Kernel::select` picks; its name in `kernel`).

use std::path::PathBuf;

use fusedrnn::kernels::Kernel;
use fusedrnn::net::{Cell, Input, NetScorer, NetWeights, Spec};
use serde_json::json;

const LEN: usize = 200;
const ROWS: usize = 64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: net_dump OUT_DIR (writes lstm32.json and gru32.json)")?,
    );
    std::fs::create_dir_all(&out)?;
    let kernel = Kernel::select()?;
    // The ids of benches/net.rs (its first rows).
    let ids: Vec<u32> = (0..ROWS * LEN)
        .map(|i| 1 + (i as u32).wrapping_mul(2_654_435_761) % 4999)
        .collect();
    for cell in [Cell::Lstm, Cell::Gru { reset_after: true }] {
        let spec = Spec {
            cell,
            units: 32,
            vocab: 5000,
            input: Input::Embedding { width: 64 },
            seq_len: LEN,
        };
        // The seed and scale of benches/net.rs.
        let weights = NetWeights::seeded(spec, 1, 0.1);
        let scorer = NetScorer::from_weights(&weights, kernel)?;
        let mut probs = vec![0.0f32; ROWS];
        scorer.score(&ids, &mut probs)?;
        let mut tensors = serde_json::Map::new();
        for (name, values, shape) in weights.tensors() {
            tensors.insert(name.into(), json!({ "shape": shape, "values": values }));
        }
        tensors.insert(
            "dense.bias".into(),
            json!({ "shape": [1], "values": [weights.dense_bias] }),
        );
        let doc = json!({
            "cell": cell.name(),
            "units": 32,
            "vocab": 5000,
            "width": 64,
            "seq_len": LEN,
            "kernel": kernel.name(),
            "tensors": tensors,
            "ids": ids,
            "probs": probs,
        });
        let path = out.join(format!("{}32.json", cell.name()));
        std::fs::write(&path, serde_json::to_vec(&doc)?)?;
        eprintln!(
            "{}: {} rows, kernel {}",
            path.display(),
            ROWS,
            kernel.name()
        );
    }
    Ok(())
}
