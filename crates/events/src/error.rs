//! Errors of the event-data library: every one names the file, and for a malformed file the
//! byte offset and what was expected there.

use std::path::PathBuf;

use thiserror::Error;

/// An error reading, writing or converting event data.
#[derive(Debug, Error)]
pub enum EventsError {
    /// The operating system refused a read or write.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said (shown in this error's own message).
        error: std::io::Error,
    },
    /// The file's bytes are not what its format requires.
    #[error("{path}: at byte {offset}: {expected}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where the problem starts.
        offset: u64,
        /// What was expected there, and what was found.
        expected: String,
    },
    /// Events that the target format or frame size cannot hold.
    #[error("{path}: event {index}: {problem}")]
    Unrepresentable {
        /// The file being written or the recording being converted.
        path: PathBuf,
        /// Index of the first offending event.
        index: usize,
        /// What does not fit.
        problem: String,
    },
    /// Frame integration that SpikingJelly cannot do either (see [`crate::frames`]).
    #[error("{path}: {problem}")]
    Integration {
        /// The recording.
        path: PathBuf,
        /// Why it cannot be integrated with these settings.
        problem: String,
    },
}

impl EventsError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    /// A format error in `path` at `offset`.
    pub fn malformed(path: impl Into<PathBuf>, offset: u64, expected: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.into(),
            offset,
            expected: expected.into(),
        }
    }
}

impl EventsError {
    /// Frame integration of the recording `path` impossible with these settings.
    pub fn integration(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Integration {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, EventsError>;
