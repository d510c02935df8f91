//! Shared helpers for Strata's criterion benchmarks. The benches themselves
//! live in `benches/`; see `README.md` for how to run them and the results.

pub mod probe;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Lets this program's main thread join rayon's global pool as Strata's
/// first parallel op would (see `strata_tensor::threads`). Each bench calls
/// it first: a peer that runs before Strata in the same process (candle,
/// `gemm`) starts rayon's global pool on its own, and then Strata's ops,
/// left outside the pool, each pay for waking the main thread again. On an
/// Intel Xeon, 2 threads, the MNIST step measured 785 µs after candle's
/// benches had run against 573 µs alone. Candle's ops then run on the same
/// pool, with the main thread as a worker, too.
pub fn join_pool_first() {
    let _ = strata_tensor::threads::current_num_threads();
}

/// `len` seeded uniform values in `[-1, 1)`.
#[must_use]
pub fn random_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()
}

use strata_autograd::{Tape, Var};

/// One of the peer libraries Strata's matmul is measured against.
#[derive(Clone, Copy, Debug)]
pub enum Peer {
    /// The `gemm` crate, on rayon with the given thread count.
    Gemm,
    /// The `matrixmultiply` crate with its `threading` feature (thread count
    /// from MATMUL_NUM_THREADS).
    MatrixMultiply,
}

/// `out ← a · b` for row-major `n × n` f32 matrices, by `peer`.
///
/// # Panics
/// If a slice is shorter than `n * n`.
pub fn peer_sgemm(peer: Peer, n: usize, a: &[f32], b: &[f32], out: &mut [f32], threads: usize) {
    assert!(a.len() >= n * n && b.len() >= n * n && out.len() >= n * n, "peer_sgemm: slices shorter than n*n");
    let ld = n as isize;
    match peer {
        // SAFETY: a, b, out hold n*n f32 (asserted), row-major; gemm takes
        // (column stride, row stride) pairs.
        Peer::Gemm => unsafe {
            let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
            gemm::gemm(
                n,
                n,
                n,
                out.as_mut_ptr(),
                1,
                ld,
                false,
                a.as_ptr(),
                1,
                ld,
                b.as_ptr(),
                1,
                ld,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                par,
            );
        },
        // SAFETY: as above; matrixmultiply takes (row stride, column stride).
        Peer::MatrixMultiply => unsafe {
            matrixmultiply::sgemm(n, n, n, 1.0, a.as_ptr(), ld, 1, b.as_ptr(), ld, 1, 0.0, out.as_mut_ptr(), ld, 1);
        },
    }
}
use strata_tensor::Tensor;

/// Records a chain of `ops` elementwise ops on a 1-element tensor (cycling
/// through mul, add, tanh and sub) and runs backward; returns the gradient.
#[must_use]
pub fn tape_chain(ops: usize) -> f32 {
    let tape = Tape::<f32>::new();
    let x = tape.leaf(Tensor::from_vec(vec![0.5], [1]).expect("one value"));
    let c = tape.constant(Tensor::from_vec(vec![0.999], [1]).expect("one value"));
    let mut v = x;
    for i in 0..ops {
        v = match i % 4 {
            0 => v * c,
            1 => v + c,
            2 => v.tanh(),
            _ => v - c,
        };
    }
    let grads = v.sum().backward();
    grads.wrt(&x).expect("x feeds the chain").item()
}

/// Trains a 2 → 8 (tanh) → 1 (sigmoid) network on XOR with MSE, full batch of
/// 4, plain SGD, built from raw autograd ops. Returns the final loss.
#[must_use]
pub fn xor_train(steps: usize, lr: f32) -> f32 {
    xor_loop(steps, lr, |x, w, b| x.matmul(w.t()).add(b))
}

/// [`xor_train`] with each layer recorded as one fused `linear` op
/// (`x·Wᵀ + b`, PyTorch's `addmm`) instead of transpose, matmul and a
/// broadcasting add. Same weights, same updates, same losses up to rounding.
#[must_use]
pub fn xor_train_linear(steps: usize, lr: f32) -> f32 {
    xor_loop(steps, lr, |x, w, b| x.linear(w, Some(b)))
}

/// The XOR training loop, with `affine(x, W, b)` computing `x·Wᵀ + b`.
fn xor_loop(
    steps: usize,
    lr: f32,
    affine: impl for<'t> Fn(Var<'t, f32>, Var<'t, f32>, Var<'t, f32>) -> Var<'t, f32>,
) -> f32 {
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).expect("4x2");
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], [4, 1]).expect("4x1");
    let mut w1 = Tensor::from_vec(random_vec(16, 11), [8, 2]).expect("8x2");
    let mut b1 = Tensor::<f32>::zeros([8]);
    let mut w2 = Tensor::from_vec(random_vec(8, 12), [1, 8]).expect("1x8");
    let mut b2 = Tensor::<f32>::zeros([1]);
    let mut loss = f32::NAN;
    for _ in 0..steps {
        let grads = {
            let tape = Tape::new();
            let [vw1, vb1, vw2, vb2] = [&w1, &b1, &w2, &b2].map(|p| tape.leaf(p.clone()));
            let h = affine(tape.constant(x.clone()), vw1, vb1).tanh();
            let out = affine(h, vw2, vb2).sigmoid();
            let l = out.mse(&y);
            let g = l.backward();
            loss = l.item();
            [vw1, vb1, vw2, vb2].map(|v| g.wrt(&v).expect("every parameter feeds the loss").clone())
        };
        // SGD in place, as strata-nn's optimizers step: with the tape gone no
        // other tensor shares a parameter's storage, so nothing is copied.
        for (p, g) in [&mut w1, &mut b1, &mut w2, &mut b2].into_iter().zip(&grads) {
            p.as_mut_slice().iter_mut().zip(g.contiguous_data().iter()).for_each(|(p, &g)| *p -= lr * g);
        }
    }
    loss
}

/// The 16 random batches a classification workload cycles through: inputs of
/// `batch × inputs` and labels below `classes`, seeded. (A model trained on
/// one fixed batch fits it, its gradients shrink towards subnormal numbers,
/// and a step's time drifts with how long the benchmark has run.)
pub fn classification_batches(inputs: usize, classes: usize, batch: usize) -> Vec<(Vec<f32>, Vec<usize>)> {
    (0..16u64)
        .map(|s| {
            let labels = random_vec(batch, 100 + s)
                .iter()
                .map(|v| ((v + 1.0) * 0.5 * classes as f32) as usize % classes)
                .collect();
            (random_vec(batch * inputs, s), labels)
        })
        .collect()
}

/// The XOR network, its optimizer and data: a fresh 2 → 8 (tanh) → 1
/// (sigmoid) `Mlp`, `Sgd` at lr 0.5, the four inputs and targets.
pub fn xor_setup() -> (strata_nn::Mlp<f32>, strata_nn::optim::Sgd, Tensor<f32>, Tensor<f32>) {
    use strata_autograd::Activation;
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).unwrap();
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], [4, 1]).unwrap();
    let model = strata_nn::Mlp::with_output_activation(
        &[2, 8, 1],
        Activation::Tanh,
        Activation::Sigmoid,
        &mut StdRng::seed_from_u64(1),
    );
    (model, strata_nn::optim::Sgd::new(0.5), x, y)
}

/// One full-batch XOR step as a user writes it: a `Tape`, the forward pass,
/// MSE, backward, and the optimizer's step after the tape is dropped.
pub fn xor_step(model: &mut strata_nn::Mlp<f32>, opt: &mut strata_nn::optim::Sgd, x: &Tensor<f32>, y: &Tensor<f32>) {
    use strata_nn::Module;
    let tape = Tape::new();
    let loss = model.forward(&tape, tape.constant(x.clone())).mse(y);
    let grads = loss.backward();
    drop(tape);
    opt.step(model, &grads);
}

/// The XOR workload through the idiomatic path: [`xor_setup`], then 10,000
/// [`xor_step`]s. Returns the trained model.
pub fn xor_mlp_10k() -> strata_nn::Mlp<f32> {
    let (mut model, mut opt, x, y) = xor_setup();
    for _ in 0..10_000 {
        xor_step(&mut model, &mut opt, &x, &y);
    }
    model
}

/// The same XOR workload in candle (candle-core + candle-nn, CPU) as its
/// users write it: `candle_nn::linear` layers, `tanh`, `sigmoid`, `mse`,
/// and `SGD::backward_step` (lr 0.5), 10,000 steps from fresh weights.
/// Here, not in the criterion bench alone, so whole processes of both can
/// be paired by an outside timer (`step_figures xor-candle`).
pub fn candle_xor_10k() -> candle_nn::VarMap {
    use candle_core::{DType, Device, Module as _, Tensor as CTensor};
    use candle_nn::{Optimizer as _, VarBuilder, VarMap};
    let dev = Device::Cpu;
    let x = CTensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], (4, 2), &dev).expect("4x2");
    let y = CTensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], (4, 1), &dev).expect("4x1");
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let l1 = candle_nn::linear(2, 8, vb.pp("0")).expect("layer 0");
    let l2 = candle_nn::linear(8, 1, vb.pp("1")).expect("layer 1");
    let mut opt = candle_nn::SGD::new(varmap.all_vars(), 0.5).expect("sgd");
    for _ in 0..10_000 {
        let h = l1.forward(&x).and_then(|h| h.tanh()).expect("hidden");
        let out = l2.forward(&h).and_then(|o| candle_nn::ops::sigmoid(&o)).expect("output");
        let loss = candle_nn::loss::mse(&out, &y).expect("mse");
        opt.backward_step(&loss).expect("step");
    }
    varmap
}

/// [`classification_batches`] as Strata tensors of `[batch, inputs]`.
pub fn classification_tensors(inputs: usize, classes: usize, batch: usize) -> Vec<(Tensor<f32>, Vec<usize>)> {
    classification_batches(inputs, classes, batch)
        .into_iter()
        .map(|(x, l)| (Tensor::from_vec(x, [batch, inputs]).expect("batch × inputs values"), l))
        .collect()
}

/// One classification training step as a user writes it: a fresh `Tape`,
/// the model's forward pass, cross-entropy, backward, and the optimizer's
/// step after the tape is dropped.
pub fn classification_step<O: strata_nn::optim::Optimizer<f32> + ?Sized>(
    model: &mut strata_nn::Mlp<f32>,
    opt: &mut O,
    x: &Tensor<f32>,
    labels: &[usize],
) {
    use strata_nn::Module;
    let tape = Tape::new();
    let loss = model.forward(&tape, tape.constant(x.clone())).cross_entropy(labels);
    let grads = loss.backward();
    drop(tape);
    opt.step(model, &grads);
}
