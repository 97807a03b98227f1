//! `MergePolarities`: every event's polarity set to 0.

use rand_chacha::ChaCha8Rng;

use super::{Transform, TransformError};
use crate::Events;

/// Sets every polarity to 0 (`tonic.transforms.MergePolarities`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MergePolarities;

impl Transform for MergePolarities {
    fn apply(&self, events: &Events, _: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let mut out = events.clone();
        out.p.fill(0);
        Ok(out)
    }
}
