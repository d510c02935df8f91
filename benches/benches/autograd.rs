//! Tape overhead and a tiny training loop, the two figures of issue 3:
//! - `tape_chain/1000`: record 1,000 elementwise ops on 1-element tensors and
//!   run backward (time ÷ 1000 = cost per op, forward + backward);
//! - `xor_10k_steps`: 2 → 8 (tanh) → 1 (sigmoid), MSE, batch 4, 10,000 SGD
//!   steps from raw autograd ops: `10k_sgd_steps` composes each layer from
//!   transpose, matmul and a broadcasting add; `10k_sgd_steps_linear` records
//!   it as one fused `linear` op.
//!
//! ```text
//! cargo bench -p strata-bench --bench autograd
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata_bench::{tape_chain, xor_train, xor_train_linear};

fn bench(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let mut g = c.benchmark_group("tape");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("chain_1000_ops", |b| b.iter(|| black_box(tape_chain(black_box(1000)))));
    g.finish();

    let mut g = c.benchmark_group("xor");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("10k_sgd_steps", |b| b.iter(|| black_box(xor_train(10_000, 1.0))));
    g.bench_function("10k_sgd_steps_linear", |b| b.iter(|| black_box(xor_train_linear(10_000, 1.0))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
