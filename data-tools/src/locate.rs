//! Where the notebook's data comes from: a real `imdb.npz` if this machine has one, else the
//! synthetic corpus of [`crate::synth`]. Shared by the demo, the benches and the tests.

use std::path::{Path, PathBuf};

use fusedrnn::tokfile::TokFile;

use crate::synth::{SynthConfig, generate, npz_bytes};
use crate::{Error, ImdbArrays, PackParams, pack};

/// Where a real `imdb.npz` may be, in order: `$FUSEDRNN_IMDB_NPZ`, Keras' cache
/// (`~/.keras/datasets/imdb.npz`), `../shared/data/imdb.npz` from the working directory, and the
/// same beside this repository.
pub fn imdb_npz_candidates() -> Vec<PathBuf> {
    let mut c = Vec::new();
    if let Some(p) = std::env::var_os("FUSEDRNN_IMDB_NPZ") {
        c.push(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        c.push(Path::new(&home).join(".keras/datasets/imdb.npz"));
    }
    c.push(PathBuf::from("../shared/data/imdb.npz"));
    c.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/imdb.npz"));
    c
}

/// The first candidate that exists.
pub fn find_imdb_npz() -> Option<PathBuf> {
    imdb_npz_candidates().into_iter().find(|p| p.is_file())
}

/// Where [`notebook_tok`]'s data came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Npz(PathBuf),
    Synthetic,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Npz(p) => write!(f, "{}", p.display()),
            Source::Synthetic => f.write_str("the synthetic corpus (no imdb.npz on this machine)"),
        }
    }
}

/// The notebook's packed data in memory: the real `imdb.npz` when there is one, else the
/// synthetic corpus, packed with the notebook's settings.
pub fn notebook_tok() -> Result<(TokFile, Source), Error> {
    let (arrays, source) = match find_imdb_npz() {
        Some(path) => (ImdbArrays::read(&path)?, Source::Npz(path)),
        None => {
            let (a, b, c, d) = generate(&SynthConfig::default());
            let npz = npz_bytes(&a, &b, &c, &d).map_err(|e| Error::Config(e.to_string()))?;
            let arrays = ImdbArrays::from_bytes(&npz).map_err(Error::Config)?;
            (arrays, Source::Synthetic)
        }
    };
    let packed = pack(&arrays, &PackParams::NOTEBOOK)?;
    let [a, b, c] = &packed.splits;
    let mut bytes = Vec::new();
    fusedrnn::tokfile::encode(
        &mut bytes,
        &packed.params,
        [a.as_data(), b.as_data(), c.as_data()],
    )?;
    Ok((TokFile::from_bytes(&bytes)?, source))
}
