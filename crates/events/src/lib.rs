//! spikeforge's event-data library (no burn): event types, readers and writers of the
//! neuromorphic file formats, frame integration and resizing, exact to SpikingJelly 2.0.0.
//! Usable on its own, like Tonic is in Python.
//!
//! Data flows one way: [`formats`] read files into [`Events`]; [`frames`] integrates events
//! into count frames `[T, 2, H, W]`; [`resize`] reduces them to the training size.

pub mod cache;
pub mod checksum;
pub mod dataset;
pub mod datasets;
pub mod default_dataset;
pub mod emulator;
pub mod error;
pub mod events;
pub mod formats;
pub mod frames;
pub mod fuzz;
pub mod heidelberg;
pub mod images;
pub mod panics;
pub mod pipeline;
pub mod resize;
pub mod saccades;
pub mod spike_frames;
pub mod split;
pub mod transforms;

pub use error::{EventsError, Result};
pub use events::Events;
pub use frames::{EmptyWindows, Frames, SplitBy};
pub use resize::Resize;
