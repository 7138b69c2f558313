//! `fusedrnn import`: any model file fusedrnn reads — a Keras `.h5` / `.keras`, a PyTorch state
//! dict saved as safetensors, or one of fusedrnn's own files — to fusedrnn's `.safetensors`. Every
//! other `--model` goes through the same readers, so a Keras file can also be used directly
//! (converted in memory).
//!
//! The file is opened by [`fusedrnn::net::open_any`]: the notebook's reader first (a notebook
//! model imports exactly as it always has, in the notebook's format), then the general one (any
//! shape of issue 14, written in the general format by [`fusedrnn::net::NetWeights::save`]). Keras
//! files are read by `fusedrnn-keras` (pure Rust, HDF5 and zip); their named tensors go through
//! the library's own checked loading path, so an imported model satisfies exactly what a loaded
//! `.safetensors` does. The output is written atomically: on any error there is no output file.

use std::path::PathBuf;

use clap::Args;
use fusedrnn::net::{AnyModel, OpenOptions, open_any, open_with};

use crate::CliResult;

/// `fusedrnn import MODEL --out M.safetensors [--seq-len N]`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Model file: Keras legacy HDF5 `.h5` (tf.keras 2 or Keras 3) or Keras 3 `.keras`; a PyTorch
    /// state dict saved as `.safetensors`; or fusedrnn's own `.safetensors`. Embedding or one-hot
    /// input → one SimpleRNN / LSTM / GRU layer of 1..256 units → Dense(1, sigmoid).
    pub model: PathBuf,
    /// Output weights (.safetensors; the notebook's format for its shapes, fusedrnn's general
    /// format for any other; written atomically).
    #[arg(long)]
    pub out: PathBuf,
    /// Input length (`pad_sequences(maxlen=...)`) to record: required for a file that records
    /// none (a PyTorch state dict, a Keras model built with `Input(shape=(None,))`); replaces the
    /// length a file records (a recurrent network runs at any length).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=fusedrnn::net::MAX_SEQ_LEN as i64))]
    pub seq_len: Option<u32>,
}

pub fn run(args: &ImportArgs) -> CliResult {
    fusedrnn::cli::paths::check_out_file(&args.out, &[("MODEL", &args.model)])?;
    let model = match args.seq_len {
        None => open_any(&args.model, None)?,
        Some(n) => AnyModel::from_net(open_with(
            &args.model,
            &OpenOptions::default().seq_len(n as usize),
        )?),
    };
    let what = match &model {
        AnyModel::Notebook(m) => {
            m.save(&args.out)?;
            format!(
                "{} (num_words {}, seq_len {})",
                m.arch(),
                m.vocab(),
                fusedrnn::shape::SEQ_LEN
            )
        }
        AnyModel::Net(w) => {
            w.save(&args.out)?;
            format!("{} (fusedrnn's general format)", w.spec)
        }
    };
    eprintln!(
        "imported {what} from {} to {}",
        args.model.display(),
        args.out.display()
    );
    Ok(())
}
