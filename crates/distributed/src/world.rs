//! [`World`]: this process's place among the ranks, and the collective
//! operations training needs — starting replicas equal, averaging
//! gradients, summing metrics, checking that the replicas agree.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Equivalence, Root};
use strata_autograd::Grads;
use strata_nn::optim::GradSource;
use strata_nn::{Buffer, Module, Param};
use strata_tensor::{Float, Tensor};

use crate::error::Error;

/// Gradients are flattened into buckets of at most this many elements (16 MB
/// of f32), one MPI reduction each: a few large messages instead of one per
/// tensor.
pub const BUCKET_ELEMENTS: usize = 1 << 22;

/// This process's MPI environment: its rank among `size` processes.
/// MPI is finalised when it is dropped.
pub struct World {
    // Dropping the universe finalises MPI; it must outlive `comm`'s use.
    _universe: Universe,
    comm: SimpleCommunicator,
}

impl World {
    /// Initialises MPI (once per process). Run under `mpirun -np N`; run
    /// alone it is a world of one.
    ///
    /// # Errors
    /// [`Error::Init`] if MPI was initialised before in this process.
    pub fn init() -> Result<World, Error> {
        let universe = mpi::initialize().ok_or_else(|| Error::Init("MPI is already initialised".into()))?;
        let comm = universe.world();
        Ok(World { _universe: universe, comm })
    }

    /// This process's rank, `0..size`.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.comm.rank() as usize
    }

    /// Number of processes.
    #[must_use]
    pub fn size(&self) -> usize {
        self.comm.size() as usize
    }

    /// True on rank 0, the one that prints and writes checkpoints.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// Waits for every rank.
    pub fn barrier(&self) {
        self.comm.barrier();
    }

    /// Ends every rank of the job with `code` (MPI_Abort): what a rank that
    /// cannot go on calls, so the others do not wait for it forever in the
    /// next collective.
    pub fn abort(&self, code: i32) -> ! {
        self.comm.abort(code)
    }

    /// Copies `root`'s parameters and buffers (batch norm's running
    /// statistics) into every rank's model, so all replicas start
    /// identical. The models are compared first: every rank must have the
    /// same parameters, in the same order, of the same sizes.
    ///
    /// # Errors
    /// [`Error::ModelMismatch`] on every rank, naming the first parameter
    /// that differs (or the counts), before anything is copied.
    pub fn broadcast_params<T: Float + Equivalence, M: Module<T> + ?Sized>(
        &self,
        model: &mut M,
        root: usize,
    ) -> Result<(), Error> {
        let layout: Vec<(String, usize)> = model.named_params().into_iter().map(|(n, p)| (n, p.numel())).collect();
        self.check_same_layout(&layout, root)?;
        let mut flat: Vec<T> = Vec::with_capacity(layout.iter().map(|l| l.1).sum());
        model.params(&mut |p| flat.extend_from_slice(&p.value().contiguous_data()));
        self.comm.process_at_rank(root as i32).broadcast_into(&mut flat[..]);
        let mut at = 0;
        model.params_mut(&mut |p| {
            let n = p.numel();
            let t = Tensor::from_vec(flat[at..at + n].to_vec(), p.value().shape().clone()).expect("same size");
            p.set(t);
            at += n;
        });
        self.broadcast_buffers(model, root)
    }

    /// Copies `root`'s buffers into every rank's model. Batch norm's running
    /// statistics are updated from each rank's own shard of the batch, so
    /// they drift apart between ranks while the weights stay identical (as
    /// in PyTorch's DDP with `broadcast_buffers=False`); call this before
    /// evaluating or saving on any rank but `root` (PyTorch's default
    /// re-broadcasts them at every forward pass instead).
    ///
    /// # Errors
    /// [`Error::ModelMismatch`] on every rank if the buffers differ in
    /// names, count or sizes.
    pub fn broadcast_buffers<T: Float + Equivalence, M: Module<T> + ?Sized>(
        &self,
        model: &mut M,
        root: usize,
    ) -> Result<(), Error> {
        let mut layout = Vec::new();
        model.visit_buffers(&mut |n, b| layout.push((format!("buffer {n}"), b.as_tensor().map_or(1, Tensor::numel))));
        self.check_same_layout(&layout, root)?;
        let (mut floats, mut counts) = (Vec::<T>::new(), Vec::<i64>::new());
        model.visit_buffers(&mut |_, b| match b {
            Buffer::Float(t) => floats.extend_from_slice(&t.contiguous_data()),
            Buffer::Count(c) => counts.push(*c),
        });
        let from = self.comm.process_at_rank(root as i32);
        if !floats.is_empty() {
            from.broadcast_into(&mut floats[..]);
        }
        if !counts.is_empty() {
            from.broadcast_into(&mut counts[..]);
        }
        let (mut at, mut k) = (0, 0);
        model.visit_buffers_mut(&mut |_, b| match b {
            Buffer::Float(t) => {
                let n = t.numel();
                *t = Tensor::from_vec(floats[at..at + n].to_vec(), t.shape().clone()).expect("same size");
                at += n;
            }
            Buffer::Count(c) => {
                *c = counts[k];
                k += 1;
            }
        });
        Ok(())
    }

    /// Compares every rank's parameter layout with `root`'s; the same error
    /// on every rank if any differs (so all stop, none waits).
    fn check_same_layout(&self, layout: &[(String, usize)], root: usize) -> Result<(), Error> {
        // Counts first, then sizes, then names (as hashes, to send fixed-size values).
        let count = layout.len() as u64;
        let counts = self.all_gather(count);
        if let Some((r, &c)) = counts.iter().enumerate().find(|&(_, &c)| c != counts[root]) {
            return Err(Error::ModelMismatch {
                rank: r,
                root,
                what: format!("{c} parameters, rank {root} has {}", counts[root]),
            });
        }
        let mut root_layout: Vec<u64> = layout.iter().flat_map(|(n, k)| [hash_of(n), *k as u64]).collect::<Vec<u64>>();
        self.comm.process_at_rank(root as i32).broadcast_into(&mut root_layout[..]);
        let first_diff = layout
            .iter()
            .zip(root_layout.chunks_exact(2))
            .position(|((n, k), theirs)| hash_of(n) != theirs[0] || *k as u64 != theirs[1]);
        let mine = first_diff.map_or(u64::MAX, |i| i as u64);
        let diffs = self.all_gather(mine);
        if let Some((r, &i)) = diffs.iter().enumerate().find(|&(_, &i)| i != u64::MAX) {
            let what = match first_diff.filter(|_| r == self.rank()) {
                Some(i) => format!(
                    "parameter {i} is `{}` of {} elements here, not what rank {root} has there",
                    layout[i].0, layout[i].1
                ),
                None => format!("parameter {i} differs (named or sized otherwise)"),
            };
            return Err(Error::ModelMismatch { rank: r, root, what });
        }
        Ok(())
    }

    /// Averages the gradients of every trainable parameter of `model` across
    /// ranks. `local` is how many samples this rank's loss was the mean of,
    /// `global` how many all ranks had together: each rank's gradient is
    /// weighted by `local / global`, so the result is the gradient of the
    /// mean loss over the global batch, even when the shards are uneven.
    ///
    /// The gradients are flattened into buckets of up to [`BUCKET_ELEMENTS`]
    /// and summed with one MPI call per bucket where that gives every rank
    /// the same bits (two ranks: an all-reduce, since `a + b = b + a`), else
    /// reduced to rank 0 and broadcast from it, so every rank gets the same
    /// bits whatever algorithm the MPI library picks. A world of one makes no
    /// call. A parameter with no gradient on this rank counts as zero.
    ///
    /// # Errors
    /// [`Error::Mismatch`] if `local` is 0 or above `global`.
    pub fn allreduce_grads<T: Float + Equivalence, M: Module<T> + ?Sized>(
        &self,
        model: &M,
        grads: &Grads<T>,
        local: usize,
        global: usize,
    ) -> Result<Averaged<T>, Error> {
        if local > global || global == 0 {
            return Err(Error::Mismatch {
                rank: self.rank(),
                what: format!("a shard of {local} samples in a global batch of {global}"),
            });
        }
        let weight = T::of(local as f64 / global as f64);
        let mut params: Vec<Param<T>> = Vec::new();
        model.params(&mut |p| {
            if !p.is_frozen() {
                params.push(p.clone());
            }
        });
        let mut flat: Vec<T> = Vec::with_capacity(params.iter().map(Param::numel).sum());
        for p in &params {
            match grads.by_tag(p.id()) {
                Some(g) => flat.extend(g.contiguous_data().iter().map(|&v| v * weight)),
                None => flat.extend(std::iter::repeat_n(T::zero(), p.numel())),
            }
        }
        let summed = if self.size() == 1 {
            flat
        } else {
            let mut summed = vec![T::zero(); flat.len()];
            let root = self.comm.process_at_rank(0);
            for (send, recv) in flat.chunks(BUCKET_ELEMENTS).zip(summed.chunks_mut(BUCKET_ELEMENTS)) {
                if self.size() == 2 {
                    // Two ranks: each element is a + b on one and b + a on the
                    // other, the same bits (addition commutes), in one call.
                    self.comm.all_reduce_into(send, recv, SystemOperation::sum());
                } else if self.is_root() {
                    root.reduce_into_root(send, recv, SystemOperation::sum());
                    root.broadcast_into(recv);
                } else {
                    root.reduce_into(send, SystemOperation::sum());
                    root.broadcast_into(recv);
                }
            }
            summed
        };
        let mut by_id = HashMap::with_capacity(params.len());
        let mut at = 0;
        for p in &params {
            let n = p.numel();
            by_id.insert(
                p.id(),
                Tensor::from_vec(summed[at..at + n].to_vec(), p.value().shape().clone()).expect("sizes"),
            );
            at += n;
        }
        Ok(Averaged { by_id })
    }

    /// The sum of `x` over all ranks, the same on every rank (metrics: a
    /// loss summed over samples, a count of correct predictions).
    #[must_use]
    pub fn sum(&self, x: f64) -> f64 {
        let all = self.all_gather(x);
        // In rank order on every rank: the same bits everywhere.
        all.iter().sum()
    }

    /// A hash of `model`'s weights (their bits, in visiting order) from every
    /// rank, in rank order: all equal when the replicas are identical.
    #[must_use]
    pub fn weights_hash<T: Float, M: Module<T> + ?Sized>(&self, model: &M) -> Vec<u64> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        model.visit_params(&mut |name, p| {
            name.hash(&mut h);
            for v in p.value().contiguous_data().iter() {
                v.as_f64().to_bits().hash(&mut h);
            }
        });
        self.all_gather(h.finish())
    }

    fn all_gather<V: Equivalence + Copy + Default>(&self, x: V) -> Vec<V> {
        let mut all = vec![V::default(); self.size()];
        self.comm.all_gather_into(&x, &mut all[..]);
        all
    }
}

/// Gradients averaged across ranks: what [`World::allreduce_grads`] returns,
/// and what an optimizer's `step` takes.
pub struct Averaged<T: Float> {
    by_id: HashMap<u64, Tensor<T>>,
}

impl<T: Float> GradSource<T> for Averaged<T> {
    fn grad(&self, param: &Param<T>) -> Option<&Tensor<T>> {
        self.by_id.get(&param.id())
    }
}

fn hash_of(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}
