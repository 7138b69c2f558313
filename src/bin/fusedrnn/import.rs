//! `fusedrnn import` (a Keras `.h5`/`.keras` file to our `.safetensors`), and [`load_model`], which every `--model` goes through so that
//! a Keras file can be used directly (converted in memory).
//!
//! The Keras file is read by `fusedrnn-keras` (pure Rust, HDF5 and zip); its named tensors then
//! go through the library's own checked loading path ([`Model::from_keras_tensors`]), so an
//! imported model satisfies exactly what a loaded `.safetensors` does.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use fusedrnn::model::{Arch, Model};
use fusedrnn::shape::SEQ_LEN;
use fusedrnn_keras::{KerasModel, Sniffed};

use crate::CliResult;

/// Loads `--model`: a Keras file (by its `.h5`/`.hdf5`/`.keras` extension or its HDF5 / zip
/// signature) is imported in memory; anything else is read as `.safetensors`.
pub fn load_model(path: &Path) -> Result<Model, Box<dyn std::error::Error>> {
    if is_keras_file(path) {
        Ok(import(path)?.0)
    } else {
        Ok(Model::load(path)?)
    }
}

/// By extension, else by the first bytes. A file that cannot be opened is left to
/// `Model::load`, whose error names it.
fn is_keras_file(path: &Path) -> bool {
    if fusedrnn_keras::has_keras_extension(path) {
        return true;
    }
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)
        .and_then(|f| f.take(8).read_to_end(&mut head))
        .is_ok_and(|_| fusedrnn_keras::sniff(&head) != Sniffed::Other)
}

/// Reads a Keras file and builds the model through the library's checks.
fn import(path: &Path) -> Result<(Model, KerasModel), Box<dyn std::error::Error>> {
    let keras = fusedrnn_keras::read(path)?;
    let file = path.display().to_string();
    if let Some(len) = keras.seq_len.filter(|&n| n != SEQ_LEN) {
        return Err(format!(
            "{file}: the model's input length is {len}; fusedrnn runs sequences of {SEQ_LEN} \
             (pad_sequences(maxlen={SEQ_LEN}))"
        )
        .into());
    }
    let arch = Arch::from(keras.arch);
    let tensors = keras
        .tensors
        .iter()
        .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice()));
    let model = Model::from_keras_tensors(arch, tensors, &file)?;
    Ok((model, keras))
}

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
    let (model, keras) = import(&args.model)?;
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
