//! Copies between channel-major (`[channels, plane]`) and channel-last (`[positions,
//! channels]`) layouts, for kernels that read or write whole channel rows `[channels]` per
//! position (the gemm weight gradient's unfolding, the sparse kernels' accumulators).
//!
//! Both run over blocks of [`CHANNEL_BLOCK`] channels: per position, one cache line of the
//! channel-last side, and as many sequential streams on the channel-major side, so that
//! neither side strides through more lines than L1 holds.

/// Channels per pass.
const CHANNEL_BLOCK: usize = 16;

/// Copies the positions from `start` of the planes in `planes` (`[channels, plane]`)
/// channel-last into `out` (`[positions, channels]`).
pub(crate) fn channel_last(planes: &[f32], plane: usize, start: usize, out: &mut [f32]) {
    let channels = planes.len() / plane;
    for first in (0..channels).step_by(CHANNEL_BLOCK) {
        let block = first..(first + CHANNEL_BLOCK).min(channels);
        for (x, position) in out.chunks_exact_mut(channels).enumerate() {
            for (value, i) in position[block.clone()].iter_mut().zip(block.clone()) {
                *value = planes[i * plane + start + x];
            }
        }
    }
}

/// Copies the channel-last `positions` (`[positions, channels]`) into the planes `planes`
/// (`[channels, plane]`) from position `start` on.
pub(crate) fn channel_major(positions: &[f32], planes: &mut [f32], plane: usize, start: usize) {
    let channels = planes.len() / plane;
    for first in (0..channels).step_by(CHANNEL_BLOCK) {
        let block = first..(first + CHANNEL_BLOCK).min(channels);
        for (x, position) in positions.chunks_exact(channels).enumerate() {
            for (&value, i) in position[block.clone()].iter().zip(block.clone()) {
                planes[i * plane + start + x] = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip() {
        // 20 channels (a full block and a partial one) of a 3×5 plane, positions 4..13.
        let (channels, plane, start, len) = (20, 15, 4, 9);
        let planes: Vec<f32> = (0..channels * plane).map(|v| v as f32).collect();
        let mut last = vec![0.0; len * channels];
        channel_last(&planes, plane, start, &mut last);
        for (x, position) in last.chunks_exact(channels).enumerate() {
            for (i, &value) in position.iter().enumerate() {
                assert_eq!(value, planes[i * plane + start + x]);
            }
        }
        let mut back = vec![-1.0; channels * plane];
        channel_major(&last, &mut back, plane, start);
        for (i, row) in back.chunks_exact(plane).enumerate() {
            for (p, &value) in row.iter().enumerate() {
                let expected = if (start..start + len).contains(&p) {
                    planes[i * plane + p]
                } else {
                    -1.0
                };
                assert_eq!(value, expected, "channel {i}, position {p}");
            }
        }
    }
}
