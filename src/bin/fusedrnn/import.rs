//! `fusedrnn import` (a Keras `.h5`/`.keras` file to our `.safetensors`). Every other `--model`
//! goes through [`fusedrnn::model::open`], so a Keras file can also be used directly (converted
//! in memory).
//!
//! The Keras file is read by `fusedrnn-keras` (pure Rust, HDF5 and zip); its named tensors then
//! go through the library's own checked loading path (`Model::from_keras_tensors`), so an
//! imported model satisfies exactly what a loaded `.safetensors` does.

use std::path::PathBuf;

use clap::Args;

use crate::CliResult;

/// `fusedrnn import MODEL --out M.safetensors`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Keras model file: legacy HDF5 `.h5` (tf.keras 2 or Keras 3) or Keras 3 `.keras`.
    pub model: PathBuf,
    /// Output weights (.safetensors, Keras names; written atomically).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &ImportArgs) -> CliResult {
    fusedrnn::cli::paths::check_out_file(&args.out, &[("MODEL", &args.model)])?;
    let (model, keras) = fusedrnn::model::open::import_keras(&args.model)?;
    model.save(&args.out)?;
    eprintln!(
        "imported {} (num_words {}, {}) from {} ({}{}) to {}",
        model.arch(),
        model.vocab(),
        keras
            .seq_len
            .map_or("any input length".to_owned(), |n| format!("seq_len {n}")),
        args.model.display(),
        keras.format.name(),
        keras
            .keras_version
            .as_deref()
            .map_or(String::new(), |v| format!(", Keras {v}")),
        args.out.display()
    );
    Ok(())
}
