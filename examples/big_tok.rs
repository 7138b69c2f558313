//! Writes a large token file of the notebook's shape for scale tests: the test split of the
//! notebook's data (real `imdb.npz` when present, else synthetic) tiled to N reviews.
//!
//!     cargo run --release --example big_tok -- 1000000 /tmp/big.tok [u32]
//!     /usr/bin/time -v target/release/fusedrnn predict --model M --data /tmp/big.tok --out /tmp/p.npy
//!
//! With `u32`, the same ids are stored as a version-2 file (u32 ids, `num_words` 65,537), to
//! compare scoring and peak memory with the u16 file.

use fusedrnn::tokfile::{MAX_U16_NUM_WORDS, PackParams, SplitData, SplitName, write_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: big_tok N OUT.tok [u32]";
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let out = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let wide = match args.next().as_deref() {
        None => false,
        Some("u32") => true,
        Some(_) => return Err(usage.into()),
    };
    let (tok, source) = fusedrnn_data_tools::locate::notebook_tok()?;
    let test = tok.split(SplitName::Test);
    let seq_len = test.seq_len;
    let rows = (0..n).map(|i| i % test.len());
    let tokens: Vec<u32> = rows.clone().flat_map(|r| test.row(r).iter()).collect();
    let labels: Vec<u8> = rows.clone().map(|r| test.labels[r]).collect();
    let lengths: Vec<u32> = rows.map(|r| test.lengths[r]).collect();
    let params = PackParams {
        val_split: 0.0,
        num_words: if wide {
            MAX_U16_NUM_WORDS + 1
        } else {
            tok.params().num_words
        },
        ..*tok.params()
    };
    let empty = SplitData::default();
    let big = SplitData {
        tokens: &tokens,
        labels: &labels,
        lengths: &lengths,
    };
    let bytes = write_atomic(&out, &params, [empty, empty, big])?;
    eprintln!(
        "wrote {} ({n} reviews of {seq_len} tokens from {source}, {:.1} MB)",
        out.display(),
        bytes as f64 / 1e6
    );
    Ok(())
}
