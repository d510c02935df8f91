//! [`Thresholds`]: where the diagnostics draw their lines.

/// The limits the diagnostics judge by. The defaults are conventional
/// rules of thumb, stated with each field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// A sigmoid pre-activation beyond ±this is saturated (default 4: σ′ < 0.018,
    /// under 8 % of its peak).
    pub sigmoid_saturation: f64,
    /// A tanh pre-activation beyond ±this is saturated (default 2: tanh′ < 0.071,
    /// 7 % of its peak).
    pub tanh_saturation: f64,
    /// Warn when more than this fraction of a ReLU layer's units are dead (default 0.5).
    pub dead_warning: f64,
    /// Warn when more than this fraction of a layer's pre-activations are saturated (default 0.5).
    pub saturated_warning: f64,
    /// Warn of vanishing gradients when the first layer's weight-gradient
    /// norm is below this fraction of the last layer's (default 1e-2), or
    /// any layer's is below 1e-7 in absolute terms.
    pub vanishing_ratio: f64,
    /// Warn of exploding gradients above this weight-gradient norm (default 1e3),
    /// or when the first layer's norm exceeds the last one's by more than
    /// `1 / vanishing_ratio`.
    pub exploding_norm: f64,
    /// Warn of deep saturating stacks from this many sigmoid/tanh hidden layers on (default 4).
    pub deep_saturating_layers: usize,
    /// Warn when an update changes a weight by more than this fraction of its
    /// norm in one step (default 0.1; about 1e-3 is healthy).
    pub update_ratio_warning: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            sigmoid_saturation: 4.0,
            tanh_saturation: 2.0,
            dead_warning: 0.5,
            saturated_warning: 0.5,
            vanishing_ratio: 1e-2,
            exploding_norm: 1e3,
            deep_saturating_layers: 4,
            update_ratio_warning: 0.1,
        }
    }
}
