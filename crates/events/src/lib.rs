//! spikeforge's event-data library (no burn): event types, readers and writers of the
//! neuromorphic file formats, frame integration, splits, the frame cache and the event-camera
//! emulator. The readers and frames arrive with issue 3; this crate is the workspace's place
//! for them, so that the data path never depends on the training engine.
