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
