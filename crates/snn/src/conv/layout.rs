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
    channel_last_rows(planes, plane, start, out, planes.len() / plane);
}

/// [`channel_last`] into rows of `stride ≥ channels` values: each position's channels
/// open its row, the rest of the row is left as it is.
pub(crate) fn channel_last_rows(
    planes: &[f32],
    plane: usize,
    start: usize,
    out: &mut [f32],
    stride: usize,
) {
    let channels = planes.len() / plane;
    for first in (0..channels).step_by(CHANNEL_BLOCK) {
        let block = first..(first + CHANNEL_BLOCK).min(channels);
        for (x, position) in out.chunks_exact_mut(stride).enumerate() {
            for (value, i) in position[block.clone()].iter_mut().zip(block.clone()) {
                *value = planes[i * plane + start + x];
            }
        }
    }
}

/// Copies the channel-last `positions` (`[positions, channels]`) into the planes `planes`
/// (`[channels, plane]`) from position `start` on, adding each channel's `bias`.
pub(crate) fn channel_major_biased(
    positions: &[f32],
    bias: &[f32],
    planes: &mut [f32],
    plane: usize,
    start: usize,
) {
    let channels = planes.len() / plane;
    for first in (0..channels).step_by(CHANNEL_BLOCK) {
        let block = first..(first + CHANNEL_BLOCK).min(channels);
        for (x, position) in positions.chunks_exact(channels).enumerate() {
            for (&value, i) in position[block.clone()].iter().zip(block.clone()) {
                planes[i * plane + start + x] = value + bias[i];
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
        // Rows of 24 values: the 20 channels open each row, the rest stays as it was.
        let mut rows = vec![-1.0; len * 24];
        channel_last_rows(&planes, plane, start, &mut rows, 24);
        for (row, position) in rows.chunks_exact(24).zip(last.chunks_exact(channels)) {
            assert_eq!(&row[..channels], position);
            assert!(row[channels..].iter().all(|&v| v == -1.0));
        }
        let mut back = vec![-1.0; channels * plane];
        let bias: Vec<f32> = (0..channels).map(|i| i as f32 * 0.5).collect();
        channel_major_biased(&last, &bias, &mut back, plane, start);
        for (i, row) in back.chunks_exact(plane).enumerate() {
            for (p, &value) in row.iter().enumerate() {
                let expected = if (start..start + len).contains(&p) {
                    planes[i * plane + p] + bias[i]
                } else {
                    -1.0
                };
                assert_eq!(value, expected, "channel {i}, position {p}");
            }
        }
    }
}
