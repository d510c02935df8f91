//! [`GradAccumulator`]: gradients summed over several backward passes.

use std::collections::HashMap;

use strata_autograd::Grads;
use strata_tensor::{Float, Tensor};

use crate::module::Module;
use crate::optim::GradSource;
use crate::param::Param;

/// Sums the gradients of several backward passes (micro-batches) for one
/// optimizer step, as repeated `loss.backward()` calls do in PyTorch. The sum
/// is what the optimizer sees: scale each loss by `1/passes` for a mean.
#[derive(Clone, Debug, Default)]
pub struct GradAccumulator<T: Float = f32> {
    sums: HashMap<u64, Tensor<T>>,
    passes: usize,
}

impl<T: Float> GradAccumulator<T> {
    /// Nothing accumulated.
    #[must_use]
    pub fn new() -> Self {
        GradAccumulator { sums: HashMap::new(), passes: 0 }
    }

    /// Adds the gradients of `model`'s parameters from one backward pass.
    pub fn accumulate<M: Module<T> + ?Sized>(&mut self, model: &M, grads: &Grads<T>) {
        model.visit_params(&mut |_, p| {
            if let Some(g) = grads.by_tag(p.id()) {
                let sum = match self.sums.remove(&p.id()) {
                    Some(s) => s.add(g),
                    None => g.clone(),
                };
                self.sums.insert(p.id(), sum);
            }
        });
        self.passes += 1;
    }

    /// Number of passes accumulated since the last [`clear`](Self::clear).
    #[must_use]
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// Forgets everything (call after the optimizer step).
    pub fn clear(&mut self) {
        self.sums.clear();
        self.passes = 0;
    }
}

impl<T: Float> GradSource<T> for GradAccumulator<T> {
    fn grad(&self, param: &Param<T>) -> Option<&Tensor<T>> {
        self.sums.get(&param.id())
    }
}
