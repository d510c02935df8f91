//! A differentiable op defined outside the crate's modules, as a user would.

use strata_autograd::{gradcheck, CustomOp, Tape};
use strata_tensor::{Float, Tensor};

/// `y = a ⊙ sin(b)`: `dy/da = sin b`, `dy/db = a ⊙ cos b`.
#[derive(Clone)]
struct ScaledSin;

impl<T: Float> CustomOp<T> for ScaledSin {
    fn name(&self) -> &str {
        "scaled_sin"
    }
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        inputs[0].mul(&inputs[1].sin())
    }
    fn backward(&self, inputs: &[&Tensor<T>], _out: &Tensor<T>, g: &Tensor<T>) -> Vec<Tensor<T>> {
        vec![g.mul(&inputs[1].sin()), g.mul(inputs[0]).mul(&inputs[1].cos())]
    }
}

#[test]
fn custom_op_gradients_check() {
    let a = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.1], [2, 2]).unwrap();
    let b = Tensor::from_vec(vec![0.3, 1.2, -0.7, 2.5], [2, 2]).unwrap();
    gradcheck(|tape, v| tape.apply(ScaledSin, &[v[0], v[1]]).tanh().sum(), &[a, b]).unwrap();
}

#[test]
fn custom_op_works_in_f32_next_to_builtins() {
    let tape = Tape::<f32>::new();
    let a = tape.leaf(Tensor::ones([3]));
    let b = tape.constant(Tensor::zeros([3]));
    let y = tape.apply(ScaledSin, &[a, b]).add(a).sum();
    let g = y.backward();
    assert_eq!(g.wrt(&a).unwrap().to_vec(), vec![1.0; 3]); // sin 0 + 1
}
