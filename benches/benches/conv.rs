//! Convolutions on MNIST-sized layers, Strata against candle in the same
//! group, f32, batch 64:
//!
//! - `conv1_fwd_bwd`: 1 → 32 channels, 3×3, padding 1, on 28×28 (the input
//!   is data: weight and bias gradients only, as a first layer needs);
//! - `conv2_fwd_bwd`: 32 → 64, 3×3, padding 1, on 14×14 (input gradient too);
//! - `conv2_fwd` beside `conv2_gemm`: the forward pass against Strata's
//!   matmul of the same multiply-adds (`(64 × 288) · (288 × 64·196)`);
//! - `cnn_step`: a whole training step of the `cnn_mnist` network (two conv +
//!   ReLU + 2×2 max-pool blocks, 3136 → 128 → 10), cross-entropy, AdamW.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p strata-bench --bench conv -- --noplot
//! RAYON_NUM_THREADS=2 cargo bench -p strata-bench --bench conv -- --noplot
//! ```
//!
//! Throughput is in FLOPs (2 per multiply-add, forward and backward counted
//! as the products they run), so criterion's `Gelem/s` reads as GFLOP/s.

use std::hint::black_box;

use candle_core::{DType, Device, Module as _, Tensor as CTensor, Var as CVar};
use candle_nn::{Optimizer as _, VarBuilder, VarMap};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_bench::random_vec;
use strata_nn::optim::AdamW;
use strata_nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, Sequential};
use strata_tensor::{ConvParams, Pool2d, Tensor};

const BATCH: usize = 64;

fn strata_tensor(dims: &[usize], seed: u64) -> Tensor<f32> {
    Tensor::from_vec(random_vec(dims.iter().product(), seed), dims.to_vec()).unwrap()
}

fn candle_tensor(dims: &[usize], seed: u64) -> CTensor {
    CTensor::from_vec(random_vec(dims.iter().product(), seed), dims, &Device::Cpu).unwrap()
}

/// One layer's forward and backward: `[n, c, h, w]` input, `o` 3×3 filters,
/// padding 1; `input_grad` says whether the input is differentiated.
fn layer(c: &mut Criterion, name: &str, dims: [usize; 4], o: usize, input_grad: bool) {
    let [n, ci, h, w] = dims;
    let macs = (n * o * h * w * ci * 9) as u64;
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(2 * macs * if input_grad { 3 } else { 2 }));
    let (x, wt, b) = (strata_tensor(&dims, 1), strata_tensor(&[o, ci, 3, 3], 2), strata_tensor(&[o], 3));
    let p = ConvParams::default().padding(1);
    g.bench_function("strata", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let xv = if input_grad { tape.leaf(x.clone()) } else { tape.constant(x.clone()) };
            let y = xv.conv2d(tape.leaf(wt.clone()), Some(tape.leaf(b.clone())), p).sum();
            black_box(y.backward());
        })
    });
    let cx = candle_tensor(&dims, 1);
    let cx = if input_grad { CVar::from_tensor(&cx).unwrap().as_tensor().clone() } else { cx };
    let cw = CVar::from_tensor(&candle_tensor(&[o, ci, 3, 3], 2)).unwrap();
    let cb = CVar::from_tensor(&candle_tensor(&[o], 3)).unwrap();
    g.bench_function("candle", |bench| {
        bench.iter(|| {
            let y = cx.conv2d(cw.as_tensor(), 1, 1, 1, 1).unwrap();
            let y = y.broadcast_add(&cb.as_tensor().reshape((1, o, 1, 1)).unwrap()).unwrap();
            black_box(y.sum_all().unwrap().backward().unwrap());
        })
    });
    g.finish();
}

fn conv_layers(c: &mut Criterion) {
    strata_bench::join_pool_first();
    layer(c, "conv1_fwd_bwd", [BATCH, 1, 28, 28], 32, false);
    layer(c, "conv2_fwd_bwd", [BATCH, 32, 14, 14], 64, true);
}

/// The forward pass of the second layer against the GEMM it lowers to.
fn conv_vs_gemm(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let (k, l, o) = (32 * 9, 14 * 14, 64);
    let mut g = c.benchmark_group("conv2_fwd");
    g.throughput(Throughput::Elements((2 * BATCH * o * l * k) as u64));
    let x = strata_tensor(&[BATCH, 32, 14, 14], 1);
    let w = strata_tensor(&[o, 32, 3, 3], 2);
    let p = ConvParams::default().padding(1);
    g.bench_function("strata_conv", |b| b.iter(|| black_box(x.conv2d(&w, None, p))));
    let a = strata_tensor(&[o, k], 3);
    let cols = strata_tensor(&[k, BATCH * l], 4);
    g.bench_function("strata_gemm", |b| b.iter(|| black_box(a.matmul(&cols))));
    let (cx, cw) = (candle_tensor(&[BATCH, 32, 14, 14], 1), candle_tensor(&[o, 32, 3, 3], 2));
    g.bench_function("candle_conv", |b| b.iter(|| black_box(cx.conv2d(&cw, 1, 1, 1, 1).unwrap())));
    g.finish();
}

/// The `cnn_mnist` network in Strata.
fn strata_cnn(rng: &mut StdRng) -> Sequential {
    let same = ConvParams::default().padding(1);
    Sequential::new()
        .push(Conv2d::new(1, 32, 3, same, rng))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Conv2d::new(32, 64, 3, same, rng))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Flatten)
        .push(Linear::new(64 * 7 * 7, 128, rng))
        .push(Activation::Relu)
        .push(Linear::new(128, 10, rng))
}

/// The same network in candle-nn.
struct CandleCnn {
    c1: candle_nn::Conv2d,
    c2: candle_nn::Conv2d,
    f1: candle_nn::Linear,
    f2: candle_nn::Linear,
}

impl CandleCnn {
    fn new(vb: &VarBuilder) -> Self {
        let same = candle_nn::Conv2dConfig { padding: 1, ..Default::default() };
        CandleCnn {
            c1: candle_nn::conv2d(1, 32, 3, same, vb.pp("c1")).unwrap(),
            c2: candle_nn::conv2d(32, 64, 3, same, vb.pp("c2")).unwrap(),
            f1: candle_nn::linear(64 * 7 * 7, 128, vb.pp("f1")).unwrap(),
            f2: candle_nn::linear(128, 10, vb.pp("f2")).unwrap(),
        }
    }

    fn forward(&self, x: &CTensor) -> CTensor {
        let h = self.c1.forward(x).unwrap().relu().unwrap().max_pool2d(2).unwrap();
        let h = self.c2.forward(&h).unwrap().relu().unwrap().max_pool2d(2).unwrap();
        let h = h.flatten_from(1).unwrap();
        let h = self.f1.forward(&h).unwrap().relu().unwrap();
        self.f2.forward(&h).unwrap()
    }
}

fn cnn_step(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let mut g = c.benchmark_group("cnn_step");
    g.throughput(Throughput::Elements(BATCH as u64));
    let labels: Vec<usize> = (0..BATCH).map(|i| (i * 7) % 10).collect();
    let x = strata_tensor(&[BATCH, 1, 28, 28], 5);
    let mut model = strata_cnn(&mut StdRng::seed_from_u64(1));
    let mut opt = AdamW::new(1e-3);
    g.bench_function("strata", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(x.clone())).cross_entropy(&labels);
            let grads = loss.backward();
            opt.step(&mut model, &grads);
        })
    });

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let net = CandleCnn::new(&vb);
    let mut copt = candle_nn::AdamW::new(
        varmap.all_vars(),
        candle_nn::ParamsAdamW { lr: 1e-3, weight_decay: 0.01, ..Default::default() },
    )
    .unwrap();
    let cx = candle_tensor(&[BATCH, 1, 28, 28], 5);
    let cl = CTensor::from_vec(labels.iter().map(|&l| l as u32).collect::<Vec<_>>(), BATCH, &Device::Cpu).unwrap();
    g.bench_function("candle", |b| {
        b.iter(|| {
            let loss = candle_nn::loss::cross_entropy(&net.forward(&cx), &cl).unwrap();
            copt.backward_step(&loss).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, conv_layers, conv_vs_gemm, cnn_step);
criterion_main!(benches);
