//! Events as a struct of arrays, in recording order.

/// A recording's events: timestamp (µs), pixel column, pixel row and polarity, one entry
/// per event in file order (normally sorted by time).
///
/// Coordinates are as SpikingJelly reports them for each format (for CIFAR10-DVS, after its
/// transpose and 180° rotation). Polarity is 0 or 1; any non-zero value counts as channel 1
/// in frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Events {
    /// Timestamps in microseconds.
    pub t: Vec<u64>,
    /// Columns.
    pub x: Vec<u16>,
    /// Rows.
    pub y: Vec<u16>,
    /// Polarities.
    pub p: Vec<u8>,
}

impl Events {
    /// No events, with room for `capacity`.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            t: Vec::with_capacity(capacity),
            x: Vec::with_capacity(capacity),
            y: Vec::with_capacity(capacity),
            p: Vec::with_capacity(capacity),
        }
    }

    /// Appends one event.
    #[inline]
    pub fn push(&mut self, t: u64, x: u16, y: u16, p: u8) {
        self.t.push(t);
        self.x.push(x);
        self.y.push(y);
        self.p.push(p);
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The events whose index `i` satisfies `keep(i)`, in order.
    pub fn filter_indices(&self, mut keep: impl FnMut(usize) -> bool) -> Self {
        let mut out = Self::default();
        for i in 0..self.len() {
            if keep(i) {
                out.push(self.t[i], self.x[i], self.y[i], self.p[i]);
            }
        }
        out
    }
}
