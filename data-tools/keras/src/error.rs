//! What can go wrong importing a Keras file. Every error names the file; the problem names the
//! layer (as the model config calls it), the HDF5 object path or the zip member it concerns.

/// An import failure: the file as the caller named it, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct ImportError {
    pub file: String,
    pub problem: Problem,
}

/// What is wrong with a Keras file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("file is {found} bytes, more than the {max} bytes any supported model needs")]
    TooLarge { found: u64, max: u64 },

    #[error(
        "not a Keras model file: expected HDF5 (.h5, starts with \\x89HDF) or a Keras 3 zip \
         (.keras, starts with PK)"
    )]
    UnknownFormat,

    /// The HDF5 structure could not be read (truncated, corrupt, or a feature the reader lacks).
    #[error("HDF5 {object}: {message}")]
    Hdf5 { object: String, message: String },

    /// The `.keras` zip could not be read, or a member is missing or malformed.
    #[error(".keras archive: {0}")]
    Archive(String),

    /// The model config (JSON) is malformed or lacks what every Keras model has.
    #[error("model config: {0}")]
    Config(String),

    /// A layer, or the arrangement of layers, that fusedrnn cannot run.
    #[error("layer `{layer}` ({class}): {problem}")]
    Unsupported {
        layer: String,
        class: String,
        problem: String,
    },

    /// The model as a whole is not one of the notebook's three.
    #[error("{0}")]
    Model(String),

    /// A weight the config implies is not in the file.
    #[error("layer `{layer}`: missing weight dataset `{dataset}`")]
    MissingDataset { layer: String, dataset: String },

    /// A weight has the wrong shape or type.
    #[error("dataset `{dataset}`: expected {expected}, found {found}")]
    Dataset {
        dataset: String,
        expected: String,
        found: String,
    },

    /// A weight is NaN or infinite.
    #[error("dataset `{dataset}`: element {index} is {value}, expected a finite value")]
    NonFinite {
        dataset: String,
        index: usize,
        value: f32,
    },
}

impl Problem {
    pub(crate) fn in_file(self, file: &str) -> ImportError {
        ImportError {
            file: file.to_owned(),
            problem: self,
        }
    }
}
