//! [`Error`]: everything that reading outside data can go wrong with.

use std::path::PathBuf;

/// An error from loading a checkpoint or a dataset, or from data that cannot
/// be trained on. Each variant names what is wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A checkpoint file is not a readable safetensors file (truncated,
    /// corrupt, or not safetensors at all).
    #[error("checkpoint {file}: {reason}")]
    Checkpoint {
        /// The file (or `<bytes>` for an in-memory checkpoint).
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The model has a parameter the checkpoint lacks.
    #[error("checkpoint lacks tensor `{name}` that the model needs")]
    MissingTensor {
        /// State-dict name.
        name: String,
    },
    /// The checkpoint has a tensor the model does not (another architecture).
    #[error("checkpoint has tensor `{name}` that the model does not")]
    UnexpectedTensor {
        /// State-dict name.
        name: String,
    },
    /// A tensor's shape differs from the parameter's.
    #[error("tensor `{name}`: checkpoint shape {found:?}, model expects {expected:?}")]
    ShapeMismatch {
        /// State-dict name.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A tensor's dtype differs from the model's float type.
    #[error("tensor `{name}`: checkpoint dtype {found}, model expects {expected}")]
    DtypeMismatch {
        /// State-dict name.
        name: String,
        /// The model's dtype (`F32`, `F64`).
        expected: String,
        /// The file's dtype.
        found: String,
    },
    /// A tensor read from a file holds values the model or optimizer cannot
    /// use: NaN or infinite weights, a negative second moment, a step count
    /// that is not a whole number in range.
    #[error("tensor `{name}`: {reason}")]
    InvalidTensor {
        /// State-dict name.
        name: String,
        /// What is wrong, with the element where it helps.
        reason: String,
    },
    /// The checkpoint was saved from another architecture than the model's
    /// (its `strata.architecture` metadata differs).
    #[error("checkpoint {file} holds a {saved}, not this model's {model}")]
    ArchitectureMismatch {
        /// The file.
        file: String,
        /// The architecture the file was saved from.
        saved: String,
        /// The model's.
        model: String,
    },
    /// A data file is malformed: wrong magic number, bad dimensions,
    /// truncated, unparsable, or its values are unusable.
    #[error("{file}: {reason}")]
    Data {
        /// The file (or the dataset's name).
        file: String,
        /// What is wrong, with the position where it helps.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn data(file: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Data { file: file.into(), reason: reason.into() }
    }
}
