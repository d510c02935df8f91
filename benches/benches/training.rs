//! Whole training steps, Strata beside candle (candle-core + candle-nn, CPU)
//! in the same criterion run, each through the path a user writes: layers,
//! an optimizer, a fresh `Tape` per step (Strata) or `backward_step`
//! (candle). f32; random data of the workloads' shapes.
//!
//! - `xor_10k`: 2 → 8 (tanh) → 1 (sigmoid), MSE, the 4 XOR rows, plain SGD
//!   (lr 0.5): 10,000 steps per iteration.
//! - `mnist_lite_step`: 64 → 128 (ReLU) → 10, cross-entropy, batch 64; SGD
//!   (lr 0.01) and AdamW (lr 1e-3, weight decay 0.01).
//! - `mnist_step`: 784 → 256 → 128 → 10 (ReLU), batch 128; SGD and AdamW.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p strata-bench --bench training -- --noplot
//! RAYON_NUM_THREADS=2 cargo bench -p strata-bench --bench training -- --noplot
//! ```

use std::hint::black_box;

use candle_core::{DType, Device, Module as _, Tensor as CTensor, D};
use candle_nn::{Optimizer as _, VarBuilder, VarMap};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::Activation;
use strata_bench::{candle_xor_10k, classification_batches, classification_step, xor_mlp_10k};
use strata_nn::optim::{AdamW, Optimizer, Sgd};
use strata_nn::Mlp;
use strata_tensor::Tensor;

/// A candle MLP: `Linear` layers with `hidden` between them, `out` after the last.
struct CandleMlp {
    layers: Vec<candle_nn::Linear>,
}

impl CandleMlp {
    fn new(sizes: &[usize], vb: &VarBuilder) -> Self {
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| candle_nn::linear(w[0], w[1], vb.pp(i.to_string())).unwrap())
            .collect();
        CandleMlp { layers }
    }

    fn forward(&self, x: &CTensor, hidden: fn(&CTensor) -> CTensor) -> CTensor {
        let mut h = x.clone();
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h).unwrap();
            if i + 1 < self.layers.len() {
                h = hidden(&h);
            }
        }
        h
    }
}

fn relu(x: &CTensor) -> CTensor {
    x.relu().unwrap()
}

fn xor(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let mut g = c.benchmark_group("xor_10k");
    g.sample_size(10);
    g.bench_function("strata", |b| b.iter(|| black_box(xor_mlp_10k())));
    g.bench_function("candle", |b| b.iter(|| black_box(candle_xor_10k())));
    g.finish();
}

/// Batches the steps cycle through: a model trained on one fixed batch fits
/// it, its gradients shrink towards subnormal numbers, and a step's time
/// drifts with how long the benchmark has run.
const BATCHES: usize = 16;

/// One classification step of an MLP of `sizes` at `batch`, SGD and AdamW,
/// on random inputs and labels.
fn classification(c: &mut Criterion, name: &str, sizes: &[usize], batch: usize) {
    let mut g = c.benchmark_group(name);
    let (inputs, classes) = (sizes[0], *sizes.last().unwrap());
    let data = classification_batches(inputs, classes, batch);
    let xs: Vec<(Tensor<f32>, Vec<usize>)> =
        data.iter().map(|(x, l)| (Tensor::from_vec(x.clone(), [batch, inputs]).unwrap(), l.clone())).collect();
    let cs: Vec<(CTensor, CTensor)> = data
        .iter()
        .map(|(x, l)| {
            let labels: Vec<u32> = l.iter().map(|&v| v as u32).collect();
            (
                CTensor::from_vec(x.clone(), (batch, inputs), &Device::Cpu).unwrap(),
                CTensor::from_vec(labels, batch, &Device::Cpu).unwrap(),
            )
        })
        .collect();
    for opt_name in ["sgd", "adamw"] {
        let mut model = Mlp::new(sizes, Activation::Relu, &mut StdRng::seed_from_u64(1));
        let mut opt: Box<dyn Optimizer<f32>> =
            if opt_name == "sgd" { Box::new(Sgd::new(0.01)) } else { Box::new(AdamW::new(1e-3)) };
        let mut i = 0;
        g.bench_function(format!("strata_{opt_name}"), |b| {
            b.iter(|| {
                let (x, labels) = &xs[i % BATCHES];
                i += 1;
                classification_step(&mut model, &mut *opt, x, labels);
            })
        });
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let net = CandleMlp::new(sizes, &vb);
        let mut step: Box<dyn FnMut(&CTensor)> = if opt_name == "sgd" {
            let mut o = candle_nn::SGD::new(varmap.all_vars(), 0.01).unwrap();
            Box::new(move |loss| o.backward_step(loss).unwrap())
        } else {
            let params = candle_nn::ParamsAdamW { lr: 1e-3, weight_decay: 0.01, ..Default::default() };
            let mut o = candle_nn::AdamW::new(varmap.all_vars(), params).unwrap();
            Box::new(move |loss| o.backward_step(loss).unwrap())
        };
        let mut i = 0;
        g.bench_function(format!("candle_{opt_name}"), |b| {
            b.iter(|| {
                let (cx, cl) = &cs[i % BATCHES];
                i += 1;
                let logits = net.forward(cx, relu);
                let loss = candle_nn::loss::nll(&candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap(), cl).unwrap();
                step(&loss);
            })
        });
    }
    g.finish();
}

fn steps(c: &mut Criterion) {
    strata_bench::join_pool_first();
    classification(c, "mnist_lite_step", &[64, 128, 10], 64);
    classification(c, "mnist_step", &[784, 256, 128, 10], 128);
}

criterion_group!(benches, xor, steps);
criterion_main!(benches);
