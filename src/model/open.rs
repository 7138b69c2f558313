//! [`open`]: one door for every model file a user may hand us — `.safetensors` (Keras or PyTorch
//! tensor names), and, with the `keras` cargo feature, Keras' legacy HDF5 `.h5` (tf.keras 2 or
//! Keras 3) and Keras 3 `.keras` zips, converted in memory.
//!
//! A Keras file is recognised by its extension (`.h5`, `.hdf5`, `.keras`) or by its first bytes
//! (the HDF5 or zip signature); anything else is read as safetensors. The Keras file's named
//! tensors then go through [`Model::from_keras_tensors`], the same checks a loaded safetensors
//! file passes (names, shapes, vocabulary range, finite values).

use std::path::Path;

use super::{Model, ModelError};

/// Why a model file could not be opened. Every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A safetensors file, or a Keras file's tensors, failed the library's checks.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A Keras file could not be read, or holds a model fusedrnn cannot run (the message names
    /// the layer).
    #[cfg(feature = "keras")]
    #[error(transparent)]
    Keras(#[from] fusedrnn_keras::ImportError),
    /// A Keras model whose input length is not the kernels' `SEQ_LEN`.
    #[error(
        "{file}: the model's input length is {found}; fusedrnn runs sequences of {expected} (pad_sequences(maxlen={expected}))"
    )]
    SeqLen {
        file: String,
        found: usize,
        expected: usize,
    },
}

impl OpenError {
    /// Whether the failure is the file system's (missing file, permissions), not the content's.
    pub fn is_io(&self) -> bool {
        match self {
            OpenError::Model(ModelError::Io { .. }) => true,
            #[cfg(feature = "keras")]
            OpenError::Keras(e) => matches!(e.problem, fusedrnn_keras::Problem::Io(_)),
            _ => false,
        }
    }
}

/// Opens a model file of any supported format (see the module docs). Errors name `path`.
pub fn open(path: impl AsRef<Path>) -> Result<Model, OpenError> {
    let path = path.as_ref();
    #[cfg(feature = "keras")]
    if is_keras_file(path) {
        return open_keras(path);
    }
    Ok(Model::load(path)?)
}

/// By the first bytes: the HDF5 or zip signature is a Keras file, a safetensors header (an
/// 8-byte length, then `{`) is not, whatever the extension (fusedrnn's Python `ModelCheckpoint`
/// writes safetensors under the notebook's `.h5` names); otherwise the extension decides. A file
/// that cannot be read is left to [`Model::load`], whose error names it.
#[cfg(feature = "keras")]
fn is_keras_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(9);
    let read = crate::files::open_regular(path).and_then(|(f, _)| f.take(9).read_to_end(&mut head));
    if read.is_err() {
        return fusedrnn_keras::has_keras_extension(path);
    }
    if fusedrnn_keras::sniff(&head) != fusedrnn_keras::Sniffed::Other {
        return true;
    }
    if head.get(8) == Some(&b'{') {
        return false;
    }
    fusedrnn_keras::has_keras_extension(path)
}

/// Reads a Keras file and builds the model through the library's checks.
#[cfg(feature = "keras")]
fn open_keras(path: &Path) -> Result<Model, OpenError> {
    Ok(import_keras(path)?.0)
}

/// Reads a Keras `.h5` / `.keras` file (whatever its name) and builds the model through the
/// library's checks; also returns what the reader found besides the weights (format, Keras
/// version, input length), for tools that report it (`fusedrnn import`).
#[cfg(feature = "keras")]
pub fn import_keras(path: &Path) -> Result<(Model, fusedrnn_keras::KerasModel), OpenError> {
    use crate::shape::SEQ_LEN;

    let keras = fusedrnn_keras::read(path)?;
    let file = path.display().to_string();
    if let Some(found) = keras.seq_len.filter(|&n| n != SEQ_LEN) {
        return Err(OpenError::SeqLen {
            file,
            found,
            expected: SEQ_LEN,
        });
    }
    let tensors = keras
        .tensors
        .iter()
        .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice()));
    let model = Model::from_keras_tensors(keras.arch.into(), tensors, &file)?;
    Ok((model, keras))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Layout, init_params};

    /// A fresh temporary directory (removed when dropped) and `name` in it.
    fn tmp(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        (dir, path)
    }

    #[test]
    fn opens_safetensors_by_content() {
        let model = init_params(Layout::new(crate::model::Arch::Lstm, 50), 3).to_model();
        let (_dir, path) = tmp("m.safetensors");
        model.save(&path).unwrap();
        assert_eq!(open(&path).unwrap(), model);
    }

    #[test]
    fn missing_file_is_io_and_named() {
        let err = open(tmp("absent.safetensors").1).unwrap_err();
        assert!(err.is_io(), "{err}");
        assert!(err.to_string().contains("absent.safetensors"), "{err}");
    }

    #[cfg(feature = "keras")]
    #[test]
    fn keras_extension_goes_to_the_keras_reader() {
        let (_dir, path) = tmp("garbage.h5");
        std::fs::write(&path, b"not hdf5 at all").unwrap();
        let err = open(&path).unwrap_err();
        assert!(matches!(err, OpenError::Keras(_)), "{err:?}");
        assert!(err.to_string().contains("garbage.h5"), "{err}");
    }

    #[cfg(feature = "keras")]
    #[test]
    fn safetensors_content_under_a_keras_extension_is_read_as_safetensors() {
        let model = init_params(Layout::new(crate::model::Arch::Rnn, 30), 4).to_model();
        let (_dir, path) = tmp("checkpoint.h5");
        model.save(&path).unwrap();
        assert_eq!(open(&path).unwrap(), model);
    }

    #[cfg(feature = "keras")]
    #[test]
    fn hdf5_signature_without_extension_goes_to_the_keras_reader() {
        let (_dir, path) = tmp("sniffed.bin");
        let mut bytes = fusedrnn_keras::HDF5_MAGIC.to_vec();
        bytes.extend_from_slice(&[0; 64]);
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(open(&path).unwrap_err(), OpenError::Keras(_)));
    }
}
