//! What anomaly detection reports: the first op whose forward output or
//! gradient held a NaN or an infinity.

use std::fmt;

/// Where a non-finite value first appeared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// In the op's forward output.
    Forward,
    /// In a gradient the op's backward produced for one of its inputs.
    Backward,
}

/// The first op that produced NaN/Inf, by name and node position on the tape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// The op's name (`"log"`, `"matmul"`, a custom op's name).
    pub op: String,
    /// Its position on the tape (0 = first recorded).
    pub node: usize,
    /// Forward output or backward gradient.
    pub phase: Phase,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.phase {
            Phase::Forward => "forward output",
            Phase::Backward => "gradient from backward",
        };
        write!(f, "NaN/Inf first appeared in the {what} of `{}` (node {})", self.op, self.node)
    }
}
