//! The [`Module`] trait: a forward pass on a tape and a visitor over named
//! parameters. Layers, [`Sequential`](crate::Sequential), [`Mlp`](crate::Mlp)
//! and users' own architectures all implement it.

use strata_autograd::{Tape, Var};
use strata_tensor::Float;

use crate::buffer::Buffer;
use crate::diagnostics::{LayerTrace, Trace};
use crate::param::Param;
use crate::summary::Summary;

/// A network or a part of one.
///
/// A custom architecture is a plain struct of modules. `#[derive(Module)]`
/// writes the bookkeeping from its fields — `visit_params` and
/// `visit_params_mut`, naming each child's parameters under the field's name
/// as PyTorch's state dicts do (`fc1.weight`), and `set_training` — and the
/// struct's inherent `forward` becomes the trait's:
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::{Tape, Var};
/// use strata_nn::{Linear, Module};
///
/// /// `x + W₂·relu(W₁·x)`: a residual block.
/// #[derive(Module)]
/// #[module(crate = strata_nn)]   // not needed through the `strata` crate
/// struct Residual { fc1: Linear, fc2: Linear }
///
/// impl Residual {
///     fn forward<'t>(&self, tape: &'t Tape, x: Var<'t>) -> Var<'t> {
///         let h = self.fc1.forward(tape, x).relu();
///         x + self.fc2.forward(tape, h)
///     }
/// }
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let block = Residual { fc1: Linear::new(4, 8, &mut rng), fc2: Linear::new(8, 4, &mut rng) };
/// let names: Vec<String> = block.named_params().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
/// assert_eq!(block.num_params(), 4 * 8 + 8 + 8 * 4 + 4);
/// ```
///
/// Written by hand, the same block is:
///
/// ```
/// # use strata_autograd::{Tape, Var};
/// # use strata_nn::{Linear, Module, Param};
/// # struct Residual { fc1: Linear, fc2: Linear }
/// impl Module for Residual {
///     fn forward<'t>(&self, tape: &'t Tape, x: Var<'t>) -> Var<'t> {
///         let h = self.fc1.forward(tape, x).relu();
///         x + self.fc2.forward(tape, h)
///     }
///     fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
///         strata_nn::visit_child("fc1", &self.fc1, f);
///         strata_nn::visit_child("fc2", &self.fc2, f);
///     }
///     fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
///         strata_nn::visit_child_mut("fc1", &mut self.fc1, f);
///         strata_nn::visit_child_mut("fc2", &mut self.fc2, f);
///     }
/// }
/// ```
///
/// Cloning a module keeps its parameters' ids (see [`Param`]).
pub trait Module<T: Float = f32> {
    /// Records the forward pass of a batch `x` on `tape`.
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T>;

    /// Calls `f` with each parameter and its state-dict name, in a fixed order.
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>));

    /// Calls `f` with each parameter, mutably, in the order of [`visit_params`](Self::visit_params).
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>));

    /// [`visit_params`](Self::visit_params) without the names, as
    /// PyTorch's `parameters()` beside `named_parameters()`: what a walk
    /// that never reads a name calls, so it does not join a name for every
    /// parameter (an optimizer's step keys its state by [`Param::id`]).
    /// The default drops the names of `visit_params`; containers override
    /// it to call their children's `params`, and leaves need not.
    fn params(&self, f: &mut dyn FnMut(&Param<T>)) {
        self.visit_params(&mut |_, p| f(p));
    }

    /// Mutable [`params`](Self::params), in the same order: what
    /// optimizers walk every step.
    fn params_mut(&mut self, f: &mut dyn FnMut(&mut Param<T>)) {
        self.visit_params_mut(&mut |_, p| f(p));
    }

    /// Calls `f` with each buffer (state that is not a parameter: batch
    /// norm's `running_mean`, `running_var`, `num_batches_tracked`) and its
    /// state-dict name. Checkpoints save and load buffers; optimizers never
    /// see them. Modules without state keep the default, which visits nothing.
    fn visit_buffers(&self, _f: &mut dyn FnMut(&str, &Buffer<T>)) {}

    /// Mutable [`visit_buffers`](Self::visit_buffers), in the same order.
    /// A module may check what `f` wrote (same variant, same shape) and
    /// panic otherwise: checkpoints check before they write.
    fn visit_buffers_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Buffer<T>)) {}

    /// A short description for summaries (`Linear(64 → 128)`).
    fn describe(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// The architecture, precisely enough that two modules with the same
    /// string take the same parameters to the same function: layer kinds,
    /// sizes and activations with their parameters, in forward order
    /// (`Mlp(Dense(64 → 128, relu), Dense(128 → 10, identity))`).
    /// Checkpoints record it (metadata `strata.architecture`) and loading
    /// compares it. Defaults to [`describe`](Self::describe); containers
    /// list their children's.
    fn architecture(&self) -> String {
        self.describe()
    }

    /// [`forward`](Self::forward) that also records what each layer did into
    /// `trace`, for [summaries](Self::summary) and [diagnostics](crate::diagnostics).
    /// Containers override it to trace their children one by one; the default
    /// records the whole module as one opaque layer.
    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let y = self.forward(tape, x);
        trace.record(LayerTrace::of_module(self, y));
        y
    }

    /// Switches training-only behaviour (dropout) on or off. Containers pass it on.
    fn set_training(&mut self, _training: bool) {}

    /// Total number of parameter elements.
    fn num_params(&self) -> usize {
        let mut n = 0;
        self.params(&mut |p| n += p.numel());
        n
    }

    /// Number of parameter elements that are not frozen.
    fn num_trainable_params(&self) -> usize {
        let mut n = 0;
        self.params(&mut |p| n += if p.is_frozen() { 0 } else { p.numel() });
        n
    }

    /// Every parameter with its state-dict name (clones share storage).
    fn named_params(&self) -> Vec<(String, Param<T>)> {
        let mut out = Vec::new();
        self.visit_params(&mut |name, p| out.push((name.to_string(), p.clone())));
        out
    }

    /// Freezes the parameters whose name is `prefix` or starts with `prefix.`
    /// (`""` freezes all); returns how many were frozen.
    fn freeze(&mut self, prefix: &str) -> usize {
        set_frozen(self, prefix, true)
    }

    /// Unfreezes as [`freeze`](Self::freeze) froze; returns how many.
    fn unfreeze(&mut self, prefix: &str) -> usize {
        set_frozen(self, prefix, false)
    }

    /// A Keras-style summary: each layer's name, output shape for an input
    /// of shape `input_dims`, parameter count, and the totals. Runs one
    /// forward pass on zeros without recording gradients.
    fn summary(&self, input_dims: &[usize]) -> Summary {
        Summary::of(self, input_dims)
    }
}

fn set_frozen<T: Float, M: Module<T> + ?Sized>(m: &mut M, prefix: &str, frozen: bool) -> usize {
    let mut n = 0;
    m.visit_params_mut(&mut |name, p| {
        let hit = prefix.is_empty()
            || name == prefix
            || (name.starts_with(prefix) && name.as_bytes().get(prefix.len()) == Some(&b'.'));
        if hit {
            p.set_frozen(frozen);
            n += 1;
        }
    });
    n
}

/// Visits a child's buffers under `name.` (for hand-written [`Module::visit_buffers`]).
pub fn visit_child_buffers<T: Float>(name: &str, child: &dyn Module<T>, f: &mut dyn FnMut(&str, &Buffer<T>)) {
    child.visit_buffers(&mut |n, b| dotted(name, n, |full| f(full, b)));
}

/// Mutable [`visit_child_buffers`] (for hand-written [`Module::visit_buffers_mut`]).
pub fn visit_child_buffers_mut<T: Float>(
    name: &str,
    child: &mut dyn Module<T>,
    f: &mut dyn FnMut(&str, &mut Buffer<T>),
) {
    child.visit_buffers_mut(&mut |n, b| dotted(name, n, |full| f(full, b)));
}

/// Calls `f` with `a.b`, built on the stack when it is short: parameters
/// are visited on every optimizer step, and a `format!` per parameter per
/// step was a measured cost of small models' training loops.
pub(crate) fn dotted<R>(a: &str, b: &str, f: impl FnOnce(&str) -> R) -> R {
    const CAP: usize = 128;
    let n = a.len() + 1 + b.len();
    if n > CAP {
        return f(&format!("{a}.{b}"));
    }
    let mut buf = [0u8; CAP];
    buf[..a.len()].copy_from_slice(a.as_bytes());
    buf[a.len()] = b'.';
    buf[a.len() + 1..n].copy_from_slice(b.as_bytes());
    f(std::str::from_utf8(&buf[..n]).expect("two strs joined by '.' are UTF-8"))
}

/// Calls `f` with the decimal digits of `i`, built on the stack (a child's
/// name in [`Sequential`](crate::Sequential) and [`Mlp`](crate::Mlp)).
pub(crate) fn decimal<R>(i: usize, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut v = i;
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    f(std::str::from_utf8(&buf[at..]).expect("ASCII digits"))
}

/// Visits a child's parameters under `name.` (for hand-written [`Module::visit_params`]).
pub fn visit_child<T: Float>(name: &str, child: &dyn Module<T>, f: &mut dyn FnMut(&str, &Param<T>)) {
    child.visit_params(&mut |n, p| dotted(name, n, |full| f(full, p)));
}

/// Mutable [`visit_child`] (for hand-written [`Module::visit_params_mut`]).
pub fn visit_child_mut<T: Float>(name: &str, child: &mut dyn Module<T>, f: &mut dyn FnMut(&str, &mut Param<T>)) {
    child.visit_params_mut(&mut |n, p| dotted(name, n, |full| f(full, p)));
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for Box<M> {
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        (**self).forward(tape, x)
    }
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        (**self).visit_params(f);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        (**self).visit_params_mut(f);
    }
    fn params(&self, f: &mut dyn FnMut(&Param<T>)) {
        (**self).params(f);
    }
    fn params_mut(&mut self, f: &mut dyn FnMut(&mut Param<T>)) {
        (**self).params_mut(f);
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer<T>)) {
        (**self).visit_buffers(f);
    }
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer<T>)) {
        (**self).visit_buffers_mut(f);
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn architecture(&self) -> String {
        (**self).architecture()
    }
    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        (**self).forward_traced(tape, x, trace)
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training);
    }
}

#[cfg(test)]
mod name_tests {
    use super::{decimal, dotted};

    #[test]
    fn names_built_on_the_stack_match_format() {
        for i in [0usize, 7, 10, 99, 12_345, usize::MAX] {
            decimal(i, |s| assert_eq!(s, i.to_string()));
        }
        dotted("layers.3", "weight", |s| assert_eq!(s, "layers.3.weight"));
        dotted("", "bias", |s| assert_eq!(s, ".bias"));
        let long = "é".repeat(100);
        dotted(&long, "weight", |s| assert_eq!(s, format!("{long}.weight")));
    }
}
