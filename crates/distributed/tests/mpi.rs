//! The collectives on however many ranks run this binary: alone under
//! `cargo test -p strata-distributed` (a world of one), and under
//! `mpirun -np 2 <this test binary>` in CI. MPI is initialised once per
//! process, so everything is one test.

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_distributed::{Error, World};
use strata_nn::optim::GradSource;
use strata_nn::{Mlp, Module};
use strata_tensor::Tensor;

#[test]
fn collectives_on_every_world_size() {
    let world = World::init().unwrap();
    let (rank, size) = (world.rank(), world.size());
    assert!(World::init().is_err(), "MPI initialises once per process");

    // broadcast_params: every rank starts from rank 0's draw.
    let mut model = Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(rank as u64));
    world.broadcast_params(&mut model, 0).unwrap();
    let reference = Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(0));
    let values = |m: &Mlp| m.named_params().iter().map(|(_, p)| p.value().to_vec()).collect::<Vec<_>>();
    assert_eq!(values(&model), values(&reference));
    let hashes = world.weights_hash(&model);
    assert!(hashes.iter().all(|&h| h == hashes[0]), "{hashes:x?}");

    // broadcast_buffers: batch-norm statistics that drifted apart (each rank
    // saw other data) become root's, counts included.
    let bn = strata_nn::BatchNorm1d::<f64>::new_typed(3);
    for _ in 0..=rank {
        let tape = Tape::new();
        let x = Tensor::from_fn([4, 3], |ix| (ix[0] * 3 + ix[1] + rank * 5) as f64);
        let _ = bn.forward(&tape, tape.constant(x));
    }
    let mut net = strata_nn::Sequential::<f64>::new().push(bn);
    world.broadcast_params(&mut net, 0).unwrap();
    let mut stats = Vec::new();
    net.visit_buffers(&mut |n, b| stats.push(format!("{n}={:?}{:?}", b.as_tensor().map(|t| t.to_vec()), b.as_count())));
    let reference = strata_nn::BatchNorm1d::<f64>::new_typed(3);
    let tape = Tape::new();
    let _ = reference.forward(&tape, tape.constant(Tensor::from_fn([4, 3], |ix| (ix[0] * 3 + ix[1]) as f64)));
    let mut want = Vec::new();
    strata_nn::Sequential::<f64>::new()
        .push(reference)
        .visit_buffers(&mut |n, b| want.push(format!("{n}={:?}{:?}", b.as_tensor().map(|t| t.to_vec()), b.as_count())));
    assert_eq!(stats, want, "rank {rank}");

    // allreduce_grads: the weighted sum of every rank's gradient. Rank r's
    // batch is r + 1 copies of one sample, so each rank's mean gradient is
    // the same and the weighted average must equal it.
    let x = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], [1, 3]).unwrap();
    let local_x = Tensor::from_fn([rank + 1, 3], |ix| x.to_vec()[ix[1]]);
    let tape = Tape::new();
    let grads = model.forward(&tape, tape.constant(local_x)).cross_entropy(&vec![1; rank + 1]).backward();
    let global: usize = (1..=size).sum();
    let averaged = world.allreduce_grads(&model, &grads, rank + 1, global).unwrap();
    for (name, p) in model.named_params() {
        let mine = grads.of(&p).unwrap().to_vec();
        let all = averaged.grad(&p).unwrap().to_vec();
        for (a, b) in mine.iter().zip(&all) {
            assert!((a - b).abs() <= 1e-6 * a.abs().max(1e-3), "{name}: {a} vs {b}");
        }
    }
    drop(tape);
    assert!(matches!(world.allreduce_grads(&model, &grads, 5, 4), Err(Error::Mismatch { .. })));
    assert_eq!(world.sum(1.0), size as f64);

    // A replica of another architecture is named at broadcast_params, on
    // every rank alike (so none waits for the others).
    if size > 1 {
        let mut odd = if rank == 1 {
            Mlp::new(&[3, 5, 2], Activation::Tanh, &mut StdRng::seed_from_u64(1))
        } else {
            Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(1))
        };
        let e = world.broadcast_params(&mut odd, 0).unwrap_err().to_string();
        assert!(e.starts_with("rank 1's model differs from rank 0's: parameter 0"), "{e}");
        let mut deeper = if rank == 1 {
            Mlp::new(&[3, 4, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(1))
        } else {
            Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(1))
        };
        let e = world.broadcast_params(&mut deeper, 0).unwrap_err().to_string();
        assert_eq!(e, "rank 1's model differs from rank 0's: 6 parameters, rank 0 has 4");
    }
    world.barrier();
    if rank == 0 {
        println!("collectives checked on {size} rank(s)");
    }
}
