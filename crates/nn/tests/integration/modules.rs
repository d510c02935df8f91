//! Models pass gradcheck: an MLP with every activation, a user's residual
//! block defined here (outside the crate), LayerNorm inside a Sequential.

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, GradCheck, Tape, Var};
use strata_nn::{
    gradcheck_module, visit_child, visit_child_mut, Dense, LayerNorm, Linear, Mlp, Module, Param, Sequential,
};
use strata_tensor::Tensor;

const EVERY_ACTIVATION: [Activation; 13] = Activation::ALL;

#[test]
fn mlp_with_each_activation_passes_gradcheck() {
    for act in EVERY_ACTIVATION {
        let mut rng = StdRng::seed_from_u64(11);
        let mut model = Mlp::<f64>::new_typed(&[3, 5, 4, 3], act, &mut rng);
        let x = Tensor::rand_normal([6, 3], 0.0, 1.0, &mut rng);
        let labels = [0, 1, 2, 0, 1, 2];
        gradcheck_module(
            &mut model,
            |t, m| m.forward(t, t.constant(x.clone())).cross_entropy(&labels),
            GradCheck::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", act.name()));
    }
}

/// `x + fc2(act(norm(fc1(x))))`: a pre-activation residual block, written as a user would.
struct ResidualBlock {
    fc1: Linear<f64>,
    norm: LayerNorm<f64>,
    fc2: Linear<f64>,
    act: Activation,
}

impl Module<f64> for ResidualBlock {
    fn forward<'t>(&self, tape: &'t Tape<f64>, x: Var<'t, f64>) -> Var<'t, f64> {
        let h = self.norm.forward(tape, self.fc1.forward(tape, x)).activation(self.act);
        x + self.fc2.forward(tape, h)
    }
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<f64>)) {
        visit_child("fc1", &self.fc1, f);
        visit_child("norm", &self.norm, f);
        visit_child("fc2", &self.fc2, f);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<f64>)) {
        visit_child_mut("fc1", &mut self.fc1, f);
        visit_child_mut("norm", &mut self.norm, f);
        visit_child_mut("fc2", &mut self.fc2, f);
    }
}

/// A model of two residual blocks between an input and an output layer.
struct ResNet {
    stem: Dense<f64>,
    blocks: Vec<ResidualBlock>,
    head: Linear<f64>,
}

impl Module<f64> for ResNet {
    fn forward<'t>(&self, tape: &'t Tape<f64>, x: Var<'t, f64>) -> Var<'t, f64> {
        let h = self.blocks.iter().fold(self.stem.forward(tape, x), |h, b| b.forward(tape, h));
        self.head.forward(tape, h)
    }
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<f64>)) {
        visit_child("stem", &self.stem, f);
        for (i, b) in self.blocks.iter().enumerate() {
            visit_child(&format!("blocks.{i}"), b, f);
        }
        visit_child("head", &self.head, f);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<f64>)) {
        visit_child_mut("stem", &mut self.stem, f);
        for (i, b) in self.blocks.iter_mut().enumerate() {
            visit_child_mut(&format!("blocks.{i}"), b, f);
        }
        visit_child_mut("head", &mut self.head, f);
    }
}

fn resnet(rng: &mut StdRng) -> ResNet {
    let block = |rng: &mut StdRng| ResidualBlock {
        fc1: Linear::new_typed(4, 6, rng),
        norm: LayerNorm::new_typed(6),
        fc2: Linear::new_typed(6, 4, rng),
        act: Activation::SILU,
    };
    ResNet {
        stem: Dense::new_typed(3, 4, Activation::Tanh, rng),
        blocks: vec![block(rng), block(rng)],
        head: Linear::new_typed(4, 2, rng),
    }
}

#[test]
fn residual_custom_module_passes_gradcheck_and_names_its_params() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut model = resnet(&mut rng);
    // LayerNorm's weight starts at 1 and bias at 0; move them so their gradients are generic.
    model.visit_params_mut(&mut |name, p| {
        if name.contains("norm") {
            let v =
                p.value().add(&Tensor::rand_normal(p.value().shape().clone(), 0.0, 0.3, &mut StdRng::seed_from_u64(9)));
            p.set(v);
        }
    });
    let names: Vec<String> = model.named_params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(&names[..4], ["stem.weight", "stem.bias", "blocks.0.fc1.weight", "blocks.0.fc1.bias"]);
    assert!(names.contains(&"blocks.1.norm.weight".to_string()));
    let x = Tensor::rand_normal([5, 3], 0.0, 1.0, &mut rng);
    let t = Tensor::rand_normal([5, 2], 0.0, 1.0, &mut rng);
    gradcheck_module(&mut model, |tape, m| m.forward(tape, tape.constant(x.clone())).mse(&t), GradCheck::default())
        .unwrap();
}

#[test]
fn gradcheck_module_catches_a_wrong_gradient() {
    /// Claims d(x³)/dx = 2x: a deliberately wrong custom op.
    #[derive(Clone)]
    struct BadCube;
    impl strata_autograd::CustomOp<f64> for BadCube {
        fn name(&self) -> &str {
            "bad_cube"
        }
        fn forward(&self, inputs: &[&Tensor<f64>]) -> Tensor<f64> {
            inputs[0].map(|v| v * v * v)
        }
        fn backward(&self, inputs: &[&Tensor<f64>], _out: &Tensor<f64>, grad: &Tensor<f64>) -> Vec<Tensor<f64>> {
            vec![grad.mul(&inputs[0].mul_scalar(2.0))]
        }
    }
    let mut model = Linear::<f64>::new_typed(2, 2, &mut StdRng::seed_from_u64(1));
    let x = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.3], [2, 2]).unwrap();
    let err = gradcheck_module(
        &mut model,
        |tape, m| tape.apply(BadCube, &[m.forward(tape, tape.constant(x.clone()))]).sum(),
        GradCheck::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("parameter `weight`") || err.to_string().contains("parameter `bias`"), "{err}");
}

#[test]
fn sequential_with_layer_norm_and_dropout_in_eval_passes_gradcheck() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = Sequential::<f64>::new()
        .push(Linear::new_typed(3, 4, &mut rng))
        .push(LayerNorm::new_typed(4))
        .push(Activation::GELU)
        .push(strata_nn::Dropout::new(0.5, 1))
        .push(Linear::new_typed(4, 2, &mut rng));
    net.set_training(false);
    let x = Tensor::rand_normal([4, 3], 0.0, 1.0, &mut rng);
    gradcheck_module(
        &mut net,
        |t, m| m.forward(t, t.constant(x.clone())).cross_entropy(&[0, 1, 1, 0]),
        GradCheck::default(),
    )
    .unwrap();
}

#[test]
fn summary_lists_layers_shapes_and_totals() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Mlp::new(&[64, 128, 64, 10], Activation::Relu, &mut rng);
    model.freeze("layers.0");
    let s = model.summary(&[32, 64]);
    let rows: Vec<(&str, Vec<usize>, usize)> =
        s.rows.iter().map(|r| (r.name.as_str(), r.output.clone(), r.params)).collect();
    assert_eq!(
        rows,
        vec![("layers.0", vec![32, 128], 8320), ("layers.1", vec![32, 64], 8256), ("layers.2", vec![32, 10], 650)]
    );
    assert_eq!((s.total, s.trainable), (17226, 17226 - 8320));
    let text = s.to_string();
    assert!(text.contains("Dense(64 → 128, relu)") && text.contains("total params: 17226"), "{text}");
}

#[test]
fn default_init_fits_the_activation() {
    let mut rng = StdRng::seed_from_u64(0);
    let relu = Mlp::<f64>::new_typed(&[400, 400, 10], Activation::Relu, &mut rng);
    let std = |t: &Tensor<f64>| (t.square().mean_all()).sqrt();
    // He: std = √(2/400) ≈ 0.0707.
    assert!((std(relu.layers[0].linear.weight.value()) / (2.0f64 / 400.0).sqrt() - 1.0).abs() < 0.02);
    let tanh = Mlp::<f64>::new_typed(&[400, 400, 10], Activation::Tanh, &mut rng);
    // Xavier with gain 5/3: std = 5/3·√(2/800).
    assert!((std(tanh.layers[0].linear.weight.value()) / (5.0 / 3.0 * (2.0f64 / 800.0).sqrt()) - 1.0).abs() < 0.02);
}

/// One `Linear` applied twice (weight tying): its parameters sit on the tape
/// twice, and their gradient must be the sum of both uses.
struct Twice {
    layer: Linear<f64>,
}

impl Module<f64> for Twice {
    fn forward<'t>(&self, tape: &'t Tape<f64>, x: Var<'t, f64>) -> Var<'t, f64> {
        self.layer.forward(tape, self.layer.forward(tape, x).tanh())
    }
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<f64>)) {
        visit_child("layer", &self.layer, f);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<f64>)) {
        visit_child_mut("layer", &mut self.layer, f);
    }
}

#[test]
fn a_layer_applied_twice_gets_the_sum_of_both_gradients() {
    let mut rng = StdRng::seed_from_u64(8);
    let mut model = Twice { layer: Linear::new_typed(3, 3, &mut rng) };
    let x = Tensor::rand_normal([4, 3], 0.0, 1.0, &mut rng);
    gradcheck_module(&mut model, |t, m| m.forward(t, t.constant(x.clone())).square().sum(), GradCheck::default())
        .unwrap();
}

mod derived {
    //! `#[derive(Module)]`: names, visiting order, skip, Vec and Option
    //! fields, set_training, and the inherent forward.
    use rand::{rngs::StdRng, SeedableRng};
    use strata_autograd::{Activation, GradCheck, Tape, Var};
    use strata_nn::{gradcheck_module, Dropout, Linear, Module, Param, ParamTape};
    use strata_tensor::{Float, Tensor};

    #[derive(Module)]
    #[module(crate = strata_nn)]
    struct Block<T: Float = f32> {
        fc1: Linear<T>,
        fc2: Linear<T>,
        gate: Param<T>,
        #[module(skip)]
        width: usize,
    }

    impl<T: Float> Block<T> {
        fn new(width: usize, rng: &mut StdRng) -> Self {
            Block {
                fc1: Linear::new_typed(width, 2 * width, rng),
                fc2: Linear::new_typed(2 * width, width, rng),
                gate: Param::new(Tensor::full([width], T::of(0.5))),
                width,
            }
        }

        fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
            assert_eq!(x.dims().last(), Some(&self.width));
            let h = self.fc2.forward(tape, self.fc1.forward(tape, x).tanh());
            x + h * tape.param(&self.gate)
        }
    }

    #[derive(Module)]
    #[module(crate = strata_nn)]
    struct Net<T: Float = f32> {
        blocks: Vec<Block<T>>,
        drop: Dropout,
        head: Option<Linear<T>>,
        scales: Vec<Param<T>>,
    }

    impl<T: Float> Net<T> {
        fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
            let mut h = x;
            for (b, s) in self.blocks.iter().zip(&self.scales) {
                h = b.forward(tape, h) * tape.param(s);
            }
            let h = self.drop.forward(tape, h).activation(Activation::Tanh);
            match &self.head {
                Some(head) => head.forward(tape, h),
                None => h,
            }
        }
    }

    fn net(rng: &mut StdRng, head: bool) -> Net<f64> {
        Net {
            blocks: vec![Block::new(3, rng), Block::new(3, rng)],
            drop: Dropout::new(0.5, 1),
            head: head.then(|| Linear::new_typed(3, 2, rng)),
            scales: vec![Param::new(Tensor::ones([3])), Param::new(Tensor::full([3], 0.9))],
        }
    }

    #[test]
    fn names_follow_the_fields_in_order() {
        let mut rng = StdRng::seed_from_u64(3);
        let names: Vec<String> = net(&mut rng, true).named_params().into_iter().map(|(n, _)| n).collect();
        let want = [
            "blocks.0.fc1.weight",
            "blocks.0.fc1.bias",
            "blocks.0.fc2.weight",
            "blocks.0.fc2.bias",
            "blocks.0.gate",
            "blocks.1.fc1.weight",
            "blocks.1.fc1.bias",
            "blocks.1.fc2.weight",
            "blocks.1.fc2.bias",
            "blocks.1.gate",
            "head.weight",
            "head.bias",
            "scales.0",
            "scales.1",
        ];
        assert_eq!(names, want);
        let without: Vec<String> = net(&mut rng, false).named_params().into_iter().map(|(n, _)| n).collect();
        assert_eq!(without.len(), want.len() - 2, "a None head has no parameters");
        assert_eq!(
            net(&mut rng, false).architecture(),
            "Net(blocks: [Block(fc1: Linear(3 → 6), fc2: Linear(6 → 3), gate: [3]), \
             Block(fc1: Linear(3 → 6), fc2: Linear(6 → 3), gate: [3])], drop: Dropout(p=0.5), head: none, \
             scales: [[3], [3]])"
        );
        let mut m = net(&mut rng, true);
        let mut mutable = Vec::new();
        m.visit_params_mut(&mut |n, _| mutable.push(n.to_string()));
        assert_eq!(mutable, want, "visit_params_mut visits as visit_params does");
    }

    /// The ids of `m`'s parameters from the named walk and both nameless ones.
    fn ids_three_ways<M: Module<f64>>(m: &mut M) -> [Vec<u64>; 3] {
        let (mut named, mut bare, mut bare_mut) = (Vec::new(), Vec::new(), Vec::new());
        m.visit_params(&mut |_, p| named.push(p.id()));
        m.params(&mut |p| bare.push(p.id()));
        m.params_mut(&mut |p| bare_mut.push(p.id()));
        [named, bare, bare_mut]
    }

    #[test]
    fn nameless_walks_visit_the_named_walks_parameters_in_order() {
        let mut rng = StdRng::seed_from_u64(4);
        for head in [true, false] {
            let [named, bare, bare_mut] = ids_three_ways(&mut net(&mut rng, head));
            assert_eq!(named.len(), if head { 14 } else { 12 });
            assert_eq!(bare, named, "derived params");
            assert_eq!(bare_mut, named, "derived params_mut");
        }
        let mut mlp = strata_nn::Mlp::<f64>::new_typed(&[3, 5, 4, 2], Activation::Relu, &mut rng);
        let [named, bare, bare_mut] = ids_three_ways(&mut mlp);
        assert_eq!((named.len(), &bare, &bare_mut), (6, &named, &named), "Mlp");
        let mut seq = strata_nn::Sequential::<f64>::new()
            .push(Linear::new_typed(3, 4, &mut rng))
            .push(strata_nn::LayerNorm::new_typed(4))
            .push(net(&mut rng, true));
        let [named, bare, bare_mut] = ids_three_ways(&mut seq);
        assert_eq!((named.len(), &bare, &bare_mut), (2 + 2 + 14, &named, &named), "Sequential");
    }

    #[test]
    fn set_training_reaches_nested_fields_and_gradients_check() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut m = net(&mut rng, true);
        m.set_training(false); // dropout off: forward is deterministic, so gradcheck applies
        let x = Tensor::rand_normal([4, 3], 0.0, 1.0, &mut rng);
        gradcheck_module(
            &mut m,
            |tape, m: &Net<f64>| m.forward(tape, tape.constant(x.clone())).square().sum(),
            GradCheck::default(),
        )
        .unwrap();
        m.set_training(true);
        let tape = Tape::new();
        let a = m.forward(&tape, tape.constant(x.clone())).value();
        let b = m.forward(&tape, tape.constant(x)).value();
        assert_ne!(a.to_vec(), b.to_vec(), "training mode reached the Dropout field");
    }

    #[test]
    fn a_derived_block_infers_f32() {
        let mut rng = StdRng::seed_from_u64(5);
        let b: Block = Block::new(4, &mut rng);
        assert_eq!(b.num_params(), 4 * 8 + 8 + 8 * 4 + 4 + 4);
    }

    #[derive(Module)]
    #[module(crate = strata_nn)]
    struct NoForward {
        fc: Linear,
    }

    #[derive(Module)]
    #[module(crate = strata_nn)]
    struct Normed {
        fc: Linear,
        norms: Vec<strata_nn::BatchNorm1d>,
    }

    impl Normed {
        fn forward<'t>(&self, tape: &'t Tape, x: Var<'t>) -> Var<'t> {
            self.norms.iter().fold(self.fc.forward(tape, x), |h, n| n.forward(tape, h))
        }
    }

    #[test]
    fn buffers_are_visited_under_field_names_and_set_training_reaches_them() {
        let mut rng = StdRng::seed_from_u64(6);
        let mut m = Normed { fc: Linear::new(2, 3, &mut rng), norms: vec![strata_nn::BatchNorm1d::new(3); 2] };
        let mut names = Vec::new();
        m.visit_buffers(&mut |n, _| names.push(n.to_string()));
        assert_eq!(names[..3], ["norms.0.running_mean", "norms.0.running_var", "norms.0.num_batches_tracked"]);
        assert_eq!(names.len(), 6);
        m.visit_buffers_mut(&mut |n, b| {
            if n == "norms.1.num_batches_tracked" {
                *b = strata_nn::Buffer::Count(7);
            }
        });
        assert_eq!(m.norms[1].num_batches_tracked(), 7);
        m.set_training(false);
        assert!(!m.norms[0].is_training() && !m.norms[1].is_training());
        let tape = Tape::new();
        let _ = m.forward(&tape, tape.constant(Tensor::ones([4, 2])));
        assert_eq!(m.norms[0].num_batches_tracked(), 0, "evaluation does not update");
    }

    #[test]
    #[should_panic(expected = "derive(Module): `NoForward` has no inherent forward")]
    fn a_missing_forward_is_named_not_a_stack_overflow() {
        let mut rng = StdRng::seed_from_u64(6);
        let m = NoForward { fc: Linear::new(2, 2, &mut rng) };
        let tape = Tape::new();
        let _ = Module::forward(&m, &tape, tape.constant(Tensor::zeros([1, 2])));
    }
}

#[test]
#[should_panic(expected = "layers.0 (Dense(64 → 128, relu)): linear: ")]
fn a_model_fed_the_wrong_width_names_the_layer() {
    let model = Mlp::new(&[64, 128, 10], Activation::Relu, &mut StdRng::seed_from_u64(1));
    let tape = Tape::new();
    let _ = model.forward(&tape, tape.constant(Tensor::zeros([8, 63])));
}

#[test]
#[should_panic(expected = "Linear(4 → 2): linear: ")]
fn a_layer_fed_the_wrong_width_names_itself() {
    let layer = Linear::new(4, 2, &mut StdRng::seed_from_u64(1));
    let tape = Tape::new();
    let _ = layer.forward(&tape, tape.constant(Tensor::zeros([3, 5])));
}
