//! [`Trace`]: what each layer of one traced forward pass did.

use strata_autograd::{Activation, Grads, Var};
use strata_tensor::Float;

use crate::diagnostics::report::LayerReport;
use crate::diagnostics::thresholds::Thresholds;
use crate::init::Init;
use crate::module::Module;
use crate::param::Param;

/// One layer of a traced forward pass.
#[derive(Clone, Debug)]
pub struct LayerTrace<'t, T: Float> {
    /// State-dict prefix of the layer (`layers.0`), or its description at the top level.
    pub name: String,
    /// What the layer is (`Dense(64 → 128, relu)`).
    pub kind: String,
    /// The layer's activation, if it has one.
    pub activation: Option<Activation>,
    /// How the layer's weight was initialised, if known.
    pub init: Option<Init>,
    /// Pre-activations `W·x + b`, for layers with an activation.
    pub pre_activation: Option<Var<'t, T>>,
    /// The layer's output (its gradient is retained on the tape when it needs one).
    pub output: Var<'t, T>,
    /// The layer's weights as they were during this pass (they share storage
    /// until an optimizer writes the parameters, so update ratios can be
    /// measured). One for a dense layer; every `*weight` parameter (or, with
    /// none of that name, every parameter) of a module traced as one layer,
    /// whose `‖∇W‖` and `‖ΔW‖/‖W‖` are then taken over all of them together.
    pub weights: Vec<Param<T>>,
    /// Number of parameter elements.
    pub params: usize,
}

impl<'t, T: Float> LayerTrace<'t, T> {
    /// A layer known only by its description, output and parameter count.
    #[must_use]
    pub fn new(kind: String, output: Var<'t, T>, params: usize) -> Self {
        LayerTrace {
            name: String::new(),
            kind,
            activation: None,
            init: None,
            pre_activation: None,
            output,
            weights: Vec::new(),
            params,
        }
    }

    /// A module traced as one opaque layer (what [`Module::forward_traced`]
    /// does by default): its description, output, parameter count and
    /// weights, so the report gives its gradient norm and update ratio too.
    #[must_use]
    pub fn of_module<M: Module<T> + ?Sized>(module: &M, output: Var<'t, T>) -> Self {
        let (mut weights, mut all) = (Vec::new(), Vec::new());
        module.visit_params(&mut |name, p| {
            if name.rsplit('.').next() == Some("weight") {
                weights.push(p.clone());
            }
            all.push(p.clone());
        });
        let mut layer = LayerTrace::new(module.describe(), output, module.num_params());
        layer.weights = if weights.is_empty() { all } else { weights };
        layer
    }
}

/// Records layer by layer what a forward pass did; filled by
/// [`Module::forward_traced`](crate::Module::forward_traced).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::{Activation, Tape};
/// use strata_nn::{diagnostics::Trace, Mlp, Module};
/// use strata_tensor::Tensor;
///
/// let mut rng = StdRng::seed_from_u64(1);
/// let model = Mlp::new(&[4, 8, 3], Activation::Relu, &mut rng);
/// let tape = Tape::new();
/// let mut trace = Trace::new();
/// let x = tape.constant(Tensor::rand_normal([16, 4], 0.0, 1.0, &mut rng));
/// let loss = model.forward_traced(&tape, x, &mut trace).cross_entropy(&[0; 16]);
/// let report = trace.report(&loss.backward());
/// assert_eq!(report.layers().len(), 2);
/// assert!(report.layer("layers.0").unwrap().weight_grad_norm.unwrap() > 0.0);
/// ```
#[derive(Debug, Default)]
pub struct Trace<'t, T: Float> {
    scope: Vec<String>,
    layers: Vec<LayerTrace<'t, T>>,
}

impl<'t, T: Float> Trace<'t, T> {
    /// An empty trace.
    #[must_use]
    pub fn new() -> Self {
        Trace { scope: Vec::new(), layers: Vec::new() }
    }

    /// Runs `f` with `name` pushed on the naming scope (containers call this
    /// around each child, so its layers are named `layers.0`, `block.fc1`, …).
    pub fn scoped<R>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.scope.push(name.to_string());
        let r = f(self);
        self.scope.pop();
        r
    }

    /// Adds a layer, named by the current scope (and its own name, if set).
    /// Keeps the gradient of its output on the tape, for the report.
    pub fn record(&mut self, mut layer: LayerTrace<'t, T>) {
        let mut parts = self.scope.clone();
        if !layer.name.is_empty() {
            parts.push(std::mem::take(&mut layer.name));
        }
        layer.name = if parts.is_empty() { layer.kind.clone() } else { parts.join(".") };
        if layer.output.requires_grad() {
            layer.output.tape().retain_grad(layer.output);
        }
        self.layers.push(layer);
    }

    /// The recorded layers, in forward order.
    #[must_use]
    pub fn layers(&self) -> &[LayerTrace<'t, T>] {
        &self.layers
    }

    /// Per-layer statistics of this pass with the default thresholds; `grads`
    /// are the gradients of the loss computed on the same tape.
    #[must_use]
    pub fn report(&self, grads: &Grads<T>) -> LayerReport {
        self.report_with(grads, Thresholds::default())
    }

    /// [`report`](Self::report) with chosen thresholds.
    #[must_use]
    pub fn report_with(&self, grads: &Grads<T>, thresholds: Thresholds) -> LayerReport {
        LayerReport::from_trace(self, Some(grads), thresholds)
    }

    /// Activation statistics only (no backward pass needed).
    #[must_use]
    pub fn activation_report(&self) -> LayerReport {
        LayerReport::from_trace(self, None, Thresholds::default())
    }
}
