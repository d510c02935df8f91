//! Inference of the MNIST MLP (784 → 256 → 128 → 10, ReLU), f32, at batch 1
//! and batch 1,024: Strata's idiomatic path (a `Tape` under `no_grad`,
//! `Mlp::forward`) beside candle-nn's (`Linear` layers, `relu`), same run.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p strata-bench --bench inference -- --noplot
//! RAYON_NUM_THREADS=2 cargo bench -p strata-bench --bench inference -- --noplot
//! ```

use std::hint::black_box;

use candle_core::{DType, Device, Module as _, Tensor as CTensor};
use candle_nn::{VarBuilder, VarMap};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_bench::random_vec;
use strata_nn::{Mlp, Module};
use strata_tensor::Tensor;

fn bench(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let mut g = c.benchmark_group("mnist_inference");
    let model = Mlp::new(&[784, 256, 128, 10], Activation::Relu, &mut StdRng::seed_from_u64(1));
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let layers = [
        candle_nn::linear(784, 256, vb.pp("0")).unwrap(),
        candle_nn::linear(256, 128, vb.pp("1")).unwrap(),
        candle_nn::linear(128, 10, vb.pp("2")).unwrap(),
    ];
    for batch in [1usize, 1024] {
        let x = Tensor::from_vec(random_vec(batch * 784, 3), [batch, 784]).unwrap();
        g.bench_with_input(BenchmarkId::new("strata", batch), &x, |b, x| {
            b.iter(|| {
                let tape = Tape::new();
                black_box(tape.no_grad(|| model.forward(&tape, tape.constant(x.clone())).value()))
            })
        });
        let cx = CTensor::from_vec(random_vec(batch * 784, 3), (batch, 784), &Device::Cpu).unwrap();
        g.bench_with_input(BenchmarkId::new("candle", batch), &cx, |b, x| {
            b.iter(|| {
                let h = layers[0].forward(x).unwrap().relu().unwrap();
                let h = layers[1].forward(&h).unwrap().relu().unwrap();
                black_box(layers[2].forward(&h).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
