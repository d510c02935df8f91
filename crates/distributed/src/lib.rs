//! # strata-distributed
//!
//! Data-parallel training over MPI, as PyTorch's DistributedDataParallel or
//! Horovod do it: every process (rank) holds a replica of the model, trains
//! on its shard of each global batch, and the gradients are averaged across
//! ranks before every optimizer step, so every replica takes the same step.
//! MPI (Open MPI, through the `mpi` crate) is the transport; this crate adds
//! only the bookkeeping.
//!
//! ```no_run
//! use strata_autograd::{Activation, Tape};
//! use strata_distributed::{DistributedSampler, World};
//! use strata_nn::{data::Dataset, optim::Adam, Mlp, Module};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let world = World::init()?;
//! let data = Dataset::digits()?.split(0.8, &mut StdRng::seed_from_u64(7)).standardized();
//! let mut model = Mlp::new(&[64, 128, 10], Activation::Relu, &mut StdRng::seed_from_u64(world.rank() as u64));
//! world.broadcast_params(&mut model, 0)?;                 // every replica starts as rank 0's
//! let sampler = DistributedSampler::new(&world, 7);
//! let mut opt = Adam::new(1e-3);
//! for epoch in 0..10 {
//!     for (x, y, global) in sampler.shard_batches(&data.train, 64, epoch) {
//!         let tape = Tape::new();
//!         let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
//!         let grads = world.allreduce_grads(&model, &loss.backward(), y.len(), global)?;
//!         drop(tape);
//!         opt.step(&mut model, &grads);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Set-up
//!
//! Open MPI and libclang (rsmpi generates its bindings at build time); on
//! Debian or Ubuntu:
//!
//! ```text
//! apt-get install -y libopenmpi-dev openmpi-bin libclang-dev
//! ```
//!
//! The root crate turns this crate on with its `distributed` feature
//! (`strata = { …, features = ["distributed"] }`, then `strata::distributed`);
//! without it nothing needs MPI. Run the program under `mpirun`:
//!
//! ```text
//! cargo build --release --example mnist_ddp --features distributed
//! mpirun -np 2 target/release/examples/mnist_ddp                   # two processes, this machine
//! mpirun --host a,b -np 2 target/release/examples/mnist_ddp        # one on each of hosts a and b
//! ```
//!
//! Give each process one thread of its own (`-x RAYON_NUM_THREADS=1` when
//! there are as many processes as cores). A rank that fails calls
//! [`World::abort`], which ends every rank instead of leaving them waiting in
//! the next collective.
//!
//! ## What is exact and what is not
//!
//! - **Every rank ends with bit-identical weights.** With more than two
//!   ranks, gradients are reduced to rank 0 and broadcast from it, not
//!   all-reduced: an all-reduce may add in a different order on different
//!   ranks (recursive doubling does), and one flipped bit would let the
//!   replicas drift apart. Two ranks all-reduce in one call: each adds the
//!   same two numbers, and addition commutes. [`World::weights_hash`]
//!   all-gathers a hash of each replica's weights to check it.
//! - **Against one process with the whole batch the weights agree to about
//!   1e-6 relative, not to the bit.** One process sums a batch's per-sample
//!   gradients in one order inside its matrix products; two ranks each sum
//!   half and then add the two halves: the same numbers, another order of
//!   floating-point additions.
//! - Each rank's gradient is weighted by its share of the global batch
//!   (`local / global`), so an uneven last batch still gives the gradient of
//!   the global mean loss.
//!
//! ## Measured on 2 cores (AMD EPYC, Zen 5, AVX-512 matmul kernel)
//!
//! `mnist_ddp --data MNIST --epochs 3`, global batch 256, Adam, one thread
//! per process, third epoch's samples/s (2026-12-01, two runs each, after
//! the single-process step got faster: buffer pool, vectorised activations
//! and optimizer):
//!
//! | 1 process | 2 processes | scaling | time in all-reduce (2 processes) |
//! | ---: | ---: | ---: | ---: |
//! | 170,000–174,900 | 248,300–254,200 | 1.45–1.46× | 20–21% |
//!
//! (Earlier the same runs gave 134,500–141,400 and 196,000–201,400 samples/s:
//! both got about 25% faster, and the scaling stayed where it was.) Open
//! MPI's six all-reduce algorithms (`--mca coll_tuned_use_dynamic_rules 1
//! --mca coll_tuned_allreduce_algorithm N`) gave 219,000–247,000 samples/s:
//! none beats the default.
//!
//! The time in all-reduce includes waiting for the slower rank. What keeps
//! two processes from 2×: a step of 256 samples takes 1.49 ms in one process
//! and 1.02 ms in two, of which 0.2 ms is the all-reduce of 0.94 MB of
//! gradients through shared memory and the wait for the other rank. Without
//! it the two processes would scale about 1.8×; with it they cannot, until
//! the reduction overlaps the backward pass (each layer's gradient sent as
//! soon as it is final, as PyTorch's DDP does), which is not done here.
//!
//! ## Where it stops scaling (a paper estimate)
//!
//! Per step the all-reduce moves each parameter's gradient: for the MNIST
//! MLP (784 → 256 → 128 → 10, 235,146 parameters, 0.94 MB in f32) a ring
//! all-reduce sends `2(p − 1)/p × 0.94 MB` per machine:
//!
//! | machines | bytes per machine | 10 Gb/s | 100 Gb/s |
//! | ---: | ---: | ---: | ---: |
//! | 8 | 1.65 MB | 1.3 ms | 0.13 ms |
//! | 64 | 1.85 MB | 1.5 ms | 0.15 ms |
//!
//! (plus a latency of `2(p − 1)` messages, ~0.1–0.6 ms at 5 µs each). One
//! step at a per-machine batch of 128 costs ~129 MFLOP, about 2–3 ms on one
//! core of these machines. At 10 Gb/s the all-reduce alone is half a step or
//! more: beyond a handful of machines the step becomes communication-bound,
//! unless each machine's share of the batch grows (more compute per byte)
//! or the reduction overlaps the backward pass (not done here). At 100 Gb/s
//! communication stays under 10% of the step up to about 64 machines, where
//! the latency term takes over.

mod error;
mod sampler;
mod world;

pub use error::Error;
pub use sampler::DistributedSampler;
pub use world::{Averaged, World, BUCKET_ELEMENTS};
