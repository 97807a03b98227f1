//! SpikingJelly's `VotingLayer(voting_size)`: each class output is the mean of a group of
//! `voting_size` consecutive features (`avg_pool1d` over the last axis).

use burn::tensor::Tensor;

/// `[T, N, classes·size] → [T, N, classes]`, output `c` the mean of features
/// `c·size .. (c+1)·size`.
pub fn vote(x: Tensor<3>, size: usize) -> Tensor<3> {
    let [t, n, features] = x.dims();
    let groups = features / size;
    x.narrow(2, 0, groups * size)
        .reshape([t, n, groups, size])
        .mean_dim(3)
        .reshape([t, n, groups])
}
