//! [`DistributedSampler`]: each rank's share of every global batch.

use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use strata_nn::data::Dataset;
use strata_tensor::{Float, Tensor};

use crate::world::World;

/// Shards each epoch's global batches across ranks, as PyTorch's
/// `DistributedSampler` does: every rank draws the same seeded permutation of
/// the samples for an epoch (seed and epoch decide it), cuts it into global
/// batches, and takes its contiguous part of each, so the ranks' shards of a
/// batch together are exactly the batch one process would have.
#[derive(Clone, Copy, Debug)]
pub struct DistributedSampler {
    rank: usize,
    size: usize,
    seed: u64,
}

impl DistributedSampler {
    /// The sampler of this rank of `world`.
    #[must_use]
    pub fn new(world: &World, seed: u64) -> Self {
        Self::for_rank(world.rank(), world.size(), seed)
    }

    /// The sampler of rank `rank` of `size` (for tests, and for planning
    /// without MPI).
    ///
    /// # Panics
    /// If `rank >= size`.
    #[must_use]
    #[track_caller]
    pub fn for_rank(rank: usize, size: usize, seed: u64) -> Self {
        assert!(rank < size, "DistributedSampler: rank {rank} of {size}");
        DistributedSampler { rank, size, seed }
    }

    /// The epoch's sample order, the same on every rank.
    #[must_use]
    pub fn epoch_order(&self, len: usize, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..len).collect();
        let mut rng = StdRng::seed_from_u64(self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        order.shuffle(&mut rng);
        order
    }

    /// This rank's part of the samples `[start, end)` of a global batch:
    /// rank `r` of `p` takes `[start + r·n/p, start + (r+1)·n/p)`.
    #[must_use]
    pub fn shard(&self, start: usize, end: usize) -> (usize, usize) {
        let n = end - start;
        (start + self.rank * n / self.size, start + (self.rank + 1) * n / self.size)
    }

    /// The epoch's batches, this rank's share of each, as
    /// `(features, labels, global batch size)`. The last global batch may be
    /// short (kept, as `Dataset::batches` keeps it), unless it has fewer
    /// samples than there are ranks: then some shard would be empty, and it
    /// is dropped, on every rank alike.
    ///
    /// # Panics
    /// If `global_batch` is smaller than the number of ranks.
    #[must_use]
    #[track_caller]
    pub fn shard_batches<T: Float>(
        &self,
        data: &Dataset<T>,
        global_batch: usize,
        epoch: usize,
    ) -> Vec<(Tensor<T>, Vec<usize>, usize)> {
        assert!(
            global_batch >= self.size,
            "shard_batches: a global batch of {global_batch} cannot be shared by {} ranks",
            self.size
        );
        let order = self.epoch_order(data.len(), epoch);
        let mut out = Vec::new();
        for start in (0..order.len()).step_by(global_batch) {
            let end = (start + global_batch).min(order.len());
            if end - start < self.size {
                break;
            }
            let (a, b) = self.shard(start, end);
            let part = data.subset(&order[a..b]);
            out.push((part.features().clone(), part.labels().to_vec(), end - start));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_each_batch_exactly_once() {
        for size in 1..5 {
            for (start, end) in [(0, 64), (64, 100), (0, 3), (10, 10)] {
                let mut seen = Vec::new();
                for rank in 0..size {
                    let (a, b) = DistributedSampler::for_rank(rank, size, 1).shard(start, end);
                    seen.extend(a..b);
                }
                assert_eq!(seen, (start..end).collect::<Vec<_>>(), "size {size} [{start}, {end})");
            }
        }
        let s = DistributedSampler::for_rank(0, 2, 9);
        assert_eq!(s.epoch_order(50, 3), DistributedSampler::for_rank(1, 2, 9).epoch_order(50, 3));
        assert_ne!(s.epoch_order(50, 3), s.epoch_order(50, 4), "a new order each epoch");
    }
}
