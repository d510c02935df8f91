//! Same seed, same bytes, whatever the thread count: two processes, with
//! RAYON_NUM_THREADS=1 and =2, train a digits MLP for three epochs with
//! Adam and save with optimizer state; the two files are identical.

use std::process::Command;

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::data::Dataset;
use strata_nn::optim::Adam;
use strata_nn::{checkpoint, Mlp, Module};

const CHILD: &str = "STRATA_DETERMINISM_OUT";

/// The child's work: train and save to the path in `CHILD`, inside a rayon
/// pool of RAYON_NUM_THREADS threads (the test harness's thread does not
/// join the global pool, so outside one every product here would be serial).
fn train_and_save(path: &str) {
    let pool = rayon::ThreadPoolBuilder::new().build().unwrap();
    pool.install(|| {
        let mut rng = StdRng::seed_from_u64(7);
        let data = Dataset::digits().unwrap().split(0.8, &mut rng).standardized();
        // Wide enough that on 2 threads the products split (dW₁ is 256 × 64
        // × 64, the second layer's three 64 × 128 × 256).
        let mut model = Mlp::new(&[64, 256, 128, 10], Activation::Relu, &mut rng);
        let mut opt = Adam::new(3e-3);
        for _ in 0..3 {
            for (x, y) in data.train.batches(64, &mut rng) {
                let tape = Tape::new();
                let grads = model.forward(&tape, tape.constant(x)).cross_entropy(&y).backward();
                drop(tape);
                opt.step(&mut model, &grads);
            }
        }
        checkpoint::save_with_optimizer(path, &model, &opt).unwrap();
    });
}

#[test]
fn one_and_two_threads_save_identical_bytes() {
    if let Ok(path) = std::env::var(CHILD) {
        train_and_save(&path);
        return;
    }
    let dir = std::env::temp_dir().join(format!("strata-determinism-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |threads: &str| {
        let path = dir.join(format!("t{threads}.safetensors"));
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "determinism::one_and_two_threads_save_identical_bytes", "--test-threads=1"])
            .env(CHILD, &path)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read(&path).unwrap()
    };
    let (one, two) = (run("1"), run("2"));
    assert!(one.len() > 40_000, "model and Adam state: {} bytes", one.len());
    assert!(one == two, "1 and 2 threads saved different bytes");
}
