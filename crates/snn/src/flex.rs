//! Helpers shared by the Flex implementations of the fused ops.

use burn::backend::flex::FlexTensor;
use burn::backend::{DispatchDevice, TensorMetadata};
use burn::tensor::{Device, Shape, TensorData};

/// The device that computes: the one an autodiff device wraps, or the device itself.
pub(crate) fn computing_device(device: &Device) -> &DispatchDevice {
    match device.as_dispatch() {
        DispatchDevice::Autodiff(autodiff) => autodiff,
        other => other,
    }
}

/// The tensor itself when it is already contiguous from offset 0, else a contiguous copy.
pub(crate) fn contiguous(tensor: &FlexTensor) -> FlexTensor {
    if tensor.as_slice::<f32>().is_some() {
        tensor.clone()
    } else {
        tensor.to_contiguous()
    }
}

/// The `f32` elements of a contiguous tensor.
pub(crate) fn f32_slice(tensor: &FlexTensor) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("fused op: expected a contiguous f32 tensor (see fused::is_supported)")
}

/// A Flex tensor of `values` in `shape`.
pub(crate) fn flex_tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The dimensions of a tensor.
pub(crate) fn dims(tensor: &FlexTensor) -> Vec<usize> {
    tensor.shape().to_vec()
}

/// `len` zeros in recycled memory, for the large output buffers of the CPU kernels.
///
/// `vec![0; len]` asks the allocator for zeroed memory, which jemalloc provides for large
/// sizes by returning the pages to the kernel and mapping fresh zero pages: the first write
/// to each 4 KiB page then faults. Filling recycled pages costs less. (`black_box` keeps the
/// compiler from turning the allocation and the fill back into one zeroed allocation.)
pub(crate) fn zeros<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut buffer = std::hint::black_box(Vec::with_capacity(len));
    buffer.resize(len, T::default());
    buffer
}
