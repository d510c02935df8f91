//! [`Error`]: what can go wrong across ranks.

/// An error of a distributed run. Each names the rank and what differs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// MPI could not be initialised (twice in one process, or no MPI).
    #[error("MPI could not be initialised: {0}")]
    Init(String),
    /// The replicas' models differ (parameter count, names or sizes).
    #[error("rank {rank}'s model differs from rank {root}'s: {what}")]
    ModelMismatch {
        /// This rank.
        rank: usize,
        /// The rank whose model is the reference.
        root: usize,
        /// The first difference.
        what: String,
    },
    /// A gradient or batch did not fit what the other ranks sent.
    #[error("rank {rank}: {what}")]
    Mismatch {
        /// This rank.
        rank: usize,
        /// What is wrong.
        what: String,
    },
}
