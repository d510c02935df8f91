//! The hot path of every example: a hidden layer `relu(x·Wᵀ + b)`, forward
//! and backward, fused (`Dense`: bias in the matmul write-out, one activation
//! pass) against the same layer composed from matmul, add and relu.
//!
//! ```text
//! cargo bench -p strata-bench --bench nn
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::{Dense, Module, ParamTape};
use strata_tensor::Tensor;

fn bench(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let mut g = c.benchmark_group("dense_relu_fwd_bwd");
    for &(batch, fan_in, fan_out) in &[(64usize, 64usize, 128usize), (128, 784, 256)] {
        let mut rng = StdRng::seed_from_u64(1);
        let layer = Dense::new(fan_in, fan_out, Activation::Relu, &mut rng);
        let x = Tensor::<f32>::rand_normal([batch, fan_in], 0.0, 1.0, &mut rng);
        let id = format!("{batch}x{fan_in}->{fan_out}");
        g.bench_with_input(BenchmarkId::new("fused", &id), &x, |b, x| {
            b.iter(|| {
                let tape = Tape::new();
                let y = layer.forward(&tape, tape.constant(x.clone())).sum();
                black_box(y.backward());
            })
        });
        g.bench_with_input(BenchmarkId::new("composed", &id), &x, |b, x| {
            b.iter(|| {
                let tape = Tape::new();
                let w = tape.param(&layer.linear.weight);
                let bias = tape.param(layer.linear.bias.as_ref().unwrap());
                let y = tape.constant(x.clone()).matmul(w.t()).add(bias).relu().sum();
                black_box(y.backward());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
