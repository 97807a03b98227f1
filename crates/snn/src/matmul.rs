//! Small single-threaded matrix products on strided `f32` views, through the `gemm` crate
//! (the kernels burn's Flex backend uses), for fused ops that call them inside their own
//! rayon tasks.

use gemm::Parallelism;

/// A read-only `rows × cols` matrix in `data`: element `(r, c)` at `r·row_stride +
/// c·col_stride`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// `data` as a row-major `rows × cols` matrix.
    pub(crate) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (no copy).
    pub(crate) fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `out = lhs · rhs`, `out` row-major `lhs.rows × rhs.cols`, on the calling thread.
///
/// # Panics
/// If the shapes do not fit together or a view reaches past its data.
pub(crate) fn matmul(lhs: Matrix, rhs: Matrix, out: &mut [f32]) {
    assert_eq!(lhs.cols, rhs.rows, "matmul: inner sizes differ");
    assert_eq!(out.len(), lhs.rows * rhs.cols, "matmul: output size");
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "matmul: view out of bounds"
    );
    let stride = |s: usize| isize::try_from(s).expect("matmul: stride fits in isize");
    // SAFETY: every element of the three views lies inside its slice (checked above), `out`
    // is borrowed mutably and distinct from the inputs, and `read_dst = false` means the
    // output is only written.
    unsafe {
        gemm::gemm(
            lhs.rows,
            rhs.cols,
            lhs.cols,
            out.as_mut_ptr(),
            1,
            stride(rhs.cols),
            false,
            lhs.data.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            0.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: Matrix, rhs: Matrix) -> Vec<f32> {
        let at = |m: &Matrix, r: usize, c: usize| m.data[r * m.row_stride + c * m.col_stride];
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] =
                    (0..lhs.cols).map(|k| at(&lhs, r, k) * at(&rhs, k, c)).sum();
            }
        }
        out
    }

    /// Small integers: every product and sum is exact, so any summation order agrees.
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7 + seed) % 11) as f32 - 5.0)
            .collect()
    }

    #[test]
    fn products_of_plain_and_transposed_views_are_exact() {
        for (m, k, n) in [
            (1, 1, 1),
            (3, 5, 2),
            (32, 1024, 10),
            (32, 10, 1024),
            (17, 33, 9),
        ] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let (lhs, rhs) = (Matrix::row_major(&a, m, k), Matrix::row_major(&b, k, n));
            let mut out = vec![f32::NAN; m * n];
            matmul(lhs, rhs, &mut out);
            assert_eq!(out, naive(lhs, rhs), "{m}×{k}·{k}×{n}");
            // The same product from stored transposes.
            let (a_t, b_t) = (transpose(&a, m, k), transpose(&b, k, n));
            let lhs_t = Matrix::row_major(&a_t, k, m).t();
            let rhs_t = Matrix::row_major(&b_t, n, k).t();
            matmul(lhs_t, rhs_t, &mut out);
            assert_eq!(out, naive(lhs, rhs), "transposed views {m}×{k}·{k}×{n}");
        }
    }

    fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        (0..cols * rows)
            .map(|i| data[(i % rows) * cols + i / rows])
            .collect()
    }

    #[test]
    #[should_panic(expected = "inner sizes")]
    fn mismatched_shapes_panic() {
        let a = [0.0; 6];
        matmul(
            Matrix::row_major(&a, 2, 3),
            Matrix::row_major(&a, 2, 3),
            &mut [0.0; 9],
        );
    }
}
