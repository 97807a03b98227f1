//! A bound on what an HDF5 file's headers can make the reader allocate: the HDF5 library
//! (`hdf5-pure`) sizes its buffers by a dataset's declared shape, so a damaged header claiming
//! gigabytes would abort the process. Every dataset is checked before it is read.

use hdf5_pure::Dataset;

/// The most bytes a dataset of a file of `file_len` bytes may decode to: deflate expands at
/// most 1032-fold, and no dataset spikeforge reads comes near 1 GiB (SSC's 75 466 spike-train
/// references are 1.2 MB; a NIR weight tensor of 2²⁸ values is refused by the network anyway).
pub fn read_limit(file_len: usize) -> u64 {
    (file_len as u64).saturating_mul(1032).min(1 << 30)
}

/// What is wrong with reading `dataset` under `limit` bytes, if anything: an unreadable
/// shape or element size, or a declared size beyond the limit.
pub fn size_problem(dataset: &Dataset, limit: u64) -> Option<String> {
    let shape = match dataset.shape() {
        Ok(shape) => shape,
        Err(e) => return Some(format!("a readable shape ({e})")),
    };
    let element = match dataset.element_size() {
        Ok(element) => element,
        Err(e) => return Some(format!("a readable element size ({e})")),
    };
    let bytes = shape
        .iter()
        .try_fold(element, |total, &extent| total.checked_mul(extent));
    match bytes {
        Some(bytes) if bytes <= limit => None,
        _ => Some(format!(
            "a dataset of at most {limit} bytes for a file of this size; its header claims \
             shape {shape:?} of {element}-byte elements"
        )),
    }
}
