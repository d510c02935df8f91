//! Data-parallel training over MPI: every process holds a replica of the
//! MLP, trains on its shard of each global batch, and the gradients are
//! averaged across processes before every step.
//!
//! ```text
//! cargo build --release --example mnist_ddp --features distributed
//! mpirun -np 2 target/release/examples/mnist_ddp                      # the shipped digits
//! mpirun -np 2 target/release/examples/mnist_ddp --data ../shared/data/mnist
//! mpirun -np 1 target/release/examples/mnist_ddp                      # the single-process run it agrees with
//! mpirun --host a,b -np 2 target/release/examples/mnist_ddp --data /data/mnist
//! ```
//!
//! As root, mpirun also wants `--allow-run-as-root`; on a machine with fewer
//! cores than processes, `--oversubscribe`.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use strata::distributed::{DistributedSampler, World};
use strata::prelude::*;
use strata::rand::{rngs::StdRng, SeedableRng};

/// Train an MLP data-parallel over MPI (run under mpirun) and check that
/// every rank ends with the same weights.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// MNIST IDX directory; without it, the shipped 8×8 digits.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5, value_parser = common::positive)]
    pub epochs: usize,
    /// Stop after this many steps in all (to compare runs step for step).
    #[arg(long, value_parser = common::positive)]
    pub steps: Option<usize>,
    /// The global batch: each of the N ranks trains on 1/N of it.
    #[arg(long, default_value_t = 256, value_parser = common::positive)]
    pub batch_size: usize,
    /// Optimizer: adam, adamw, sgd (momentum 0.9), rmsprop, adagrad. Every
    /// rank runs it on the whole model (the replicas stay identical), so its
    /// cost does not shrink with more ranks.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Seed for the initial weights (rank 0's, broadcast) and the epochs' order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Save the trained model here (rank 0 writes it).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Compare the trained weights with this checkpoint (rank 0): fail if any
    /// differs by more than 1e-6 relative to the largest weight of its tensor.
    #[arg(long)]
    pub compare: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let world = match World::init() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args, &world) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error (rank {} of {}): {e}", world.rank(), world.size());
            // The other ranks would wait for this one in the next collective:
            // end them all.
            world.abort(1)
        }
    }
}

fn run(args: &Args, world: &World) -> Result<(), String> {
    let (rank, size) = (world.rank(), world.size());
    if args.batch_size < size {
        return Err(format!("--batch-size {} is smaller than the {size} ranks sharing it", args.batch_size));
    }
    if let Some(path) = &args.save {
        common::check_writable("--save", path)?;
    }
    let data = match &args.data {
        Some(dir) => Dataset::mnist(dir).map_err(|e| e.to_string())?,
        None => Dataset::digits()
            .map_err(|e| e.to_string())?
            .split(0.8, &mut StdRng::seed_from_u64(args.seed))
            .standardized(),
    };
    // Every rank agrees the data loaded before anyone waits in a collective.
    world.barrier();
    let sizes = [data.train.dim(), 256, 128, data.train.classes()];
    // Each rank draws its own initial weights; broadcast makes them rank 0's.
    let mut model = Mlp::new(&sizes, Activation::Relu, &mut StdRng::seed_from_u64(args.seed + rank as u64));
    world.broadcast_params(&mut model, 0).map_err(|e| e.to_string())?;
    let sampler = DistributedSampler::new(world, args.seed);
    let mut opt = common::optimizer(&args.optimizer, args.lr, 0.0)?;
    if world.is_root() {
        common::outln!(
            "{} ranks × {} thread(s), global batch {}, {} training samples, {}",
            size,
            rayon::current_num_threads(),
            args.batch_size,
            data.train.len(),
            model.describe()
        );
    }
    let mut steps = 0;
    let (mut total, mut in_reduce) = (Duration::ZERO, Duration::ZERO);
    'epochs: for epoch in 0..args.epochs {
        let start = Instant::now();
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for (x, y, global) in sampler.shard_batches(&data.train, args.batch_size, epoch) {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
            let l = f64::from(loss.item());
            if !l.is_finite() {
                return Err(common::diverged(l, epoch + 1, &format!("step {}", steps + 1)));
            }
            loss_sum += l * y.len() as f64;
            seen += y.len();
            let grads = loss.backward();
            drop(tape);
            let r = Instant::now();
            let grads = world.allreduce_grads(&model, &grads, y.len(), global).map_err(|e| e.to_string())?;
            in_reduce += r.elapsed();
            opt.step(&mut model, &grads);
            steps += 1;
            if args.steps == Some(steps) {
                total += start.elapsed();
                break 'epochs;
            }
        }
        let wall = start.elapsed();
        total += wall;
        let (loss, n) = (world.sum(loss_sum), world.sum(seen as f64));
        let correct = world.sum(correct_on_shard(&model, &data.test, rank, size) as f64);
        if world.is_root() {
            common::outln!(
                "epoch {:>3}  loss {:.4}  test accuracy {:.2}%  {:.0} samples/s",
                epoch + 1,
                loss / n,
                100.0 * correct / data.test.len() as f64,
                n / wall.as_secs_f64()
            );
        }
    }
    let hashes = world.weights_hash(&model);
    let share = world.sum(in_reduce.as_secs_f64()) / world.sum(total.as_secs_f64()).max(1e-12);
    if world.is_root() {
        common::outln!("{steps} steps; all-reduce took {:.1}% of the training time (mean over ranks)", share * 100.0);
        if hashes.iter().all(|&h| h == hashes[0]) {
            common::outln!("weights identical on all {size} ranks (hash {:016x})", hashes[0]);
        } else {
            return Err(format!("the ranks' weights differ: hashes {hashes:x?}"));
        }
        if let Some(path) = &args.save {
            checkpoint::save(path, &model).map_err(|e| e.to_string())?;
            common::outln!("saved {}", path.display());
        }
        if let Some(path) = &args.compare {
            let worst = compare(&model, path)?;
            common::outln!("largest difference from {}: {worst:.2e} relative", path.display());
            if worst > 1e-6 {
                return Err(format!("weights differ from {} by {worst:.2e} relative (> 1e-6)", path.display()));
            }
        }
    } else if !hashes.iter().all(|&h| h == hashes[0]) {
        return Err("the ranks' weights differ".into());
    }
    world.barrier();
    Ok(())
}

/// Correct predictions on this rank's contiguous share of the test set.
fn correct_on_shard(model: &Mlp, test: &Dataset, rank: usize, size: usize) -> usize {
    let (a, b) = DistributedSampler::for_rank(rank, size, 0).shard(0, test.len());
    let part = test.subset(&(a..b).collect::<Vec<_>>());
    let predicted = strata::nn::predict(model, part.features());
    predicted.iter().zip(part.labels()).filter(|(p, l)| p == l).count()
}

/// The largest `|w − w_file| / max|w_file|` over every tensor.
fn compare(model: &Mlp, path: &std::path::Path) -> Result<f64, String> {
    let mut other = model.clone();
    checkpoint::load(path, &mut other).map_err(|e| e.to_string())?;
    let mut worst = 0.0f64;
    for ((_, a), (_, b)) in model.named_params().iter().zip(other.named_params().iter()) {
        let (a, b) = (a.value().to_vec(), b.value().to_vec());
        let scale = b.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs())).max(1e-30);
        for (x, y) in a.iter().zip(&b) {
            worst = worst.max(f64::from(x - y).abs() / scale);
        }
    }
    Ok(worst)
}
