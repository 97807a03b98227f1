//! The 2×2 poolings as a burn backend extension: a [`FusedOp`] (Flex forward and backward
//! kernels), on `Autodiff<Flex>` through [`fused::autodiff`].

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::{
    Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::tensor::{Shape, Tensor};
use multiversion::multiversion;
use rayon::prelude::*;

use crate::flex::{contiguous, dims, f32_slice, flex_tensor};
use crate::fused::{self, FusedOp};

/// The backend extension behind [`max_pool2x2`](super::max_pool2x2).
#[backend_extension(Flex, Autodiff)]
pub trait PoolOps: Backend {
    /// `[N, C, h, w]` → `[N, C, h/2, w/2]`, the maximum of each 2×2 window, stride 2.
    fn max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `[N, C, h, w]` → `[N, C, h/2, w/2]`, the mean of each 2×2 window, stride 2.
    fn avg_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// Calls the max-pooling op on high-level tensors.
pub fn max_pool2x2(x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as PoolOps>::max_pool2x2(x.into_dispatch()))
}

/// Calls the average-pooling op on high-level tensors.
pub fn avg_pool2x2(x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as PoolOps>::avg_pool2x2(x.into_dispatch()))
}

/// One input plane's size and its pooled size.
#[derive(Debug, Clone, Copy)]
struct Planes {
    count: usize,
    h: usize,
    w: usize,
}

impl Planes {
    fn of(x: &FlexTensor) -> Self {
        let d = dims(x);
        Self {
            count: d[0] * d[1],
            h: d[2],
            w: d[3],
        }
    }

    fn out_shape(&self, x: &FlexTensor) -> Shape {
        let d = dims(x);
        Shape::new([d[0], d[1], self.h / 2, self.w / 2])
    }
}

/// The pooled values and, per output, which of its window's four inputs won (row-major).
fn forward(x: &FlexTensor) -> (FlexTensor, Vec<u8>) {
    let planes = Planes::of(x);
    let x = contiguous(x);
    let (oh, ow) = (planes.h / 2, planes.w / 2);
    let mut out = vec![0.0f32; planes.count * oh * ow];
    let mut winners = vec![0u8; out.len()];
    if !out.is_empty() {
        out.par_chunks_mut(oh * ow)
            .zip(winners.par_chunks_mut(oh * ow))
            .zip(f32_slice(&x).par_chunks(planes.h * planes.w))
            .for_each_init(
                || [RowPairs::new(ow), RowPairs::new(ow)],
                |rows, ((out, winners), plane)| pool_plane(plane, planes, out, winners, rows),
            );
    }
    let shape = planes.out_shape(&x);
    (flex_tensor(out, shape), winners)
}

/// Whether `v` takes the maximum from `best`, which comes first: it is larger, or it is the
/// first NaN (PyTorch's CPU rule: strict `>` keeps the first maximum, a NaN wins).
#[inline(always)]
fn beats(v: f32, best: f32) -> bool {
    v > best || (v.is_nan() & !best.is_nan())
}

/// One row's pairs of neighbours: each pair's maximum and which of the two it is (0 or 1).
struct RowPairs {
    maxima: Vec<f32>,
    which: Vec<u8>,
}

impl RowPairs {
    /// Room for `pairs` pairs.
    fn new(pairs: usize) -> Self {
        Self {
            maxima: vec![0.0; pairs],
            which: vec![0; pairs],
        }
    }

    /// The pairs of `row`.
    #[inline(always)]
    fn fill(&mut self, row: &[f32]) {
        for ((m, i), pair) in self
            .maxima
            .iter_mut()
            .zip(self.which.iter_mut())
            .zip(row.chunks_exact(2))
        {
            let right = beats(pair[1], pair[0]);
            *m = if right { pair[1] } else { pair[0] };
            *i = u8::from(right);
        }
    }
}

/// One plane: each window's maximum and winner, the first in row-major order among equals
/// (pairs of the top and of the bottom row first, then the bottom pair's maximum takes the
/// window only if it beats the top's: the same winner as a scan of the four in order).
/// Without branches, over rows, so that they vectorise; `rows` holds the top and bottom
/// row's pairs.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn pool_plane(
    plane: &[f32],
    planes: Planes,
    out: &mut [f32],
    winners: &mut [u8],
    [top, bottom]: &mut [RowPairs; 2],
) {
    let w = planes.w;
    let ow = w / 2;
    for (oy, (out, winners)) in out
        .chunks_exact_mut(ow)
        .zip(winners.chunks_exact_mut(ow))
        .enumerate()
    {
        top.fill(&plane[2 * oy * w..][..w]);
        bottom.fill(&plane[(2 * oy + 1) * w..][..w]);
        for (((value, winner), (&t, &tw)), (&b, &bw)) in out
            .iter_mut()
            .zip(winners.iter_mut())
            .zip(top.maxima.iter().zip(&top.which))
            .zip(bottom.maxima.iter().zip(&bottom.which))
        {
            let down = beats(b, t);
            *value = if down { b } else { t };
            *winner = if down { 2 + bw } else { tw };
        }
    }
}

/// The op's kernels; it keeps the input's shape and which input of each window won.
#[derive(Debug, Clone, Copy)]
struct MaxPool2x2;

/// What the backward pass keeps: the input's shape and the winners.
#[derive(Debug, Clone)]
struct Saved {
    input_shape: Shape,
    planes: Planes,
    winners: Arc<Vec<u8>>,
}

impl FusedOp<1> for MaxPool2x2 {
    type Saved = Saved;

    fn forward(&self, [x]: [&FlexTensor; 1], save: bool) -> (FlexTensor, Option<Saved>) {
        let (out, winners) = forward(x);
        let saved = save.then(|| Saved {
            input_shape: x.shape(),
            planes: Planes::of(x),
            winners: Arc::new(winners),
        });
        (out, saved)
    }

    fn backward(
        &self,
        saved: Saved,
        grad: FlexTensor,
        [wanted]: [bool; 1],
    ) -> [Option<FlexTensor>; 1] {
        if !wanted {
            return [None];
        }
        let Saved {
            input_shape,
            planes,
            winners,
        } = saved;
        let (w, oh, ow) = (planes.w, planes.h / 2, planes.w / 2);
        let mut grad_x = vec![0.0f32; planes.count * planes.h * planes.w];
        if oh * ow > 0 {
            grad_x
                .par_chunks_mut(planes.h * w)
                .zip(f32_slice(&grad).par_chunks(oh * ow))
                .zip(winners.par_chunks(oh * ow))
                .for_each(|((grad_x, grad), winners)| {
                    for (index, (&g, &winner)) in grad.iter().zip(winners).enumerate() {
                        let (oy, ox) = (index / ow, index % ow);
                        let (dy, dx) = (usize::from(winner / 2), usize::from(winner % 2));
                        grad_x[(2 * oy + dy) * w + 2 * ox + dx] = g;
                    }
                });
        }
        [Some(flex_tensor(grad_x, input_shape))]
    }
}

/// The mean of each window: its four inputs added in row-major order, then divided by 4
/// (PyTorch's and burn's order, so the result is theirs bit for bit).
fn average(x: &FlexTensor) -> FlexTensor {
    let planes = Planes::of(x);
    let x = contiguous(x);
    let (w, oh, ow) = (planes.w, planes.h / 2, planes.w / 2);
    let mut out = vec![0.0f32; planes.count * oh * ow];
    if !out.is_empty() {
        out.par_chunks_mut(oh * ow)
            .zip(f32_slice(&x).par_chunks(planes.h * w))
            .for_each(|(out, plane)| {
                for (oy, out) in out.chunks_exact_mut(ow).enumerate() {
                    let (top, bottom) =
                        (&plane[2 * oy * w..][..w], &plane[(2 * oy + 1) * w..][..w]);
                    for (ox, value) in out.iter_mut().enumerate() {
                        let sum =
                            top[2 * ox] + top[2 * ox + 1] + bottom[2 * ox] + bottom[2 * ox + 1];
                        *value = sum / 4.0;
                    }
                }
            });
    }
    flex_tensor(out, planes.out_shape(&x))
}

/// The 2×2 average pooling; it keeps the input's shape.
#[derive(Debug, Clone, Copy)]
struct AvgPool2x2;

impl FusedOp<1> for AvgPool2x2 {
    type Saved = (Shape, Planes);

    fn forward(&self, [x]: [&FlexTensor; 1], save: bool) -> (FlexTensor, Option<Self::Saved>) {
        (average(x), save.then(|| (x.shape(), Planes::of(x))))
    }

    /// Each input of a window gets a quarter of its output's gradient; the inputs of the
    /// rows and columns that odd sizes drop get zero.
    fn backward(
        &self,
        (input_shape, planes): Self::Saved,
        grad: FlexTensor,
        [wanted]: [bool; 1],
    ) -> [Option<FlexTensor>; 1] {
        if !wanted {
            return [None];
        }
        let (w, oh, ow) = (planes.w, planes.h / 2, planes.w / 2);
        let mut grad_x = vec![0.0f32; planes.count * planes.h * w];
        if oh * ow > 0 {
            grad_x
                .par_chunks_mut(planes.h * w)
                .zip(f32_slice(&grad).par_chunks(oh * ow))
                .for_each(|(grad_x, grad)| {
                    for (oy, grad) in grad.chunks_exact(ow).enumerate() {
                        let (top, bottom) = grad_x[2 * oy * w..][..2 * w].split_at_mut(w);
                        for (ox, &g) in grad.iter().enumerate() {
                            let share = g / 4.0;
                            top[2 * ox..][..2].fill(share);
                            bottom[2 * ox..][..2].fill(share);
                        }
                    }
                });
        }
        [Some(flex_tensor(grad_x, input_shape))]
    }
}

impl PoolOps for Flex {
    fn max_pool2x2(x: FlexTensor) -> FlexTensor {
        forward(&x).0
    }

    fn avg_pool2x2(x: FlexTensor) -> FlexTensor {
        average(&x)
    }
}

impl<C: CheckpointStrategy> PoolOps for Autodiff<Flex, C> {
    fn max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        fused::autodiff::<C, _, 1>(MaxPool2x2, [x])
    }

    fn avg_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        fused::autodiff::<C, _, 1>(AvgPool2x2, [x])
    }
}
