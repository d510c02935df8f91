//! The common case needs no type annotation: models, layers and optimizers
//! built without `::<f32>` are `f32`. (These compile only if inference works,
//! so the test is that this file builds; the asserts check what was built.)

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::optim::{Adam, AdamW, Sgd};
use strata_nn::{Dense, Linear, Mlp, Module, Sequential};
use strata_tensor::Tensor;

#[test]
fn models_layers_and_optimizers_infer_f32() {
    let mut rng = StdRng::seed_from_u64(0);
    // Used only through methods that do not pin the float type.
    let model = Mlp::new(&[4, 8, 2], Activation::Relu, &mut rng);
    assert_eq!(model.num_params(), 4 * 8 + 8 + 8 * 2 + 2);
    let layer = Linear::new(3, 2, &mut rng);
    assert_eq!(layer.named_params().len(), 2);
    let dense = Dense::new(3, 5, Activation::Tanh, &mut rng);
    assert_eq!(dense.num_params(), 20);
    let net = Sequential::new().push(Linear::new(2, 3, &mut rng)).push(Activation::Relu);
    assert_eq!(net.num_params(), 9);

    // An optimizer on its own: it is not generic over the float type.
    let alone = AdamW::new(1e-3).clip_grad_norm(1.0);
    assert_eq!(alone.lr(), 1e-3);

    // An optimizer and a model created before anything says "f32".
    let mut opt = Sgd::new(0.1);
    let mut other = Adam::new(1e-3);
    let mut model = Mlp::new(&[2, 3, 2], Activation::Tanh, &mut rng);
    let tape = Tape::new();
    let x = tape.constant(Tensor::zeros([4, 2]));
    let loss = model.forward(&tape, x).cross_entropy(&[0, 1, 0, 1]);
    let grads = loss.backward();
    drop(tape);
    opt.step(&mut model, &grads);
    other.step(&mut model, &grads);
    let w: &Tensor<f32> = model.layers[0].linear.weight.value();
    assert_eq!(w.dims(), [3, 2]);
}

#[test]
fn f64_models_for_gradient_checks_use_the_typed_constructors() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Mlp::<f64>::new_typed(&[3, 4, 2], Activation::Tanh, &mut rng);
    let w: &Tensor<f64> = model.layers[0].linear.weight.value();
    assert_eq!(w.dims(), [4, 3]);
}
