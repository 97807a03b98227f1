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
    /// A cache folder another process is building or reading.
    #[error(
        "{path}: in use by another spikeforge process (a `prepare` building it or a run \
         reading it); wait for it to finish, or give another `--cache`"
    )]
    InUse {
        /// The cache's lock file.
        path: PathBuf,
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
    /// A JSON document `text`, read from `path`, that `error` rejects: the error's line and
    /// column become a byte offset.
    pub fn json(
        path: impl Into<PathBuf>,
        text: &str,
        what: &str,
        error: &serde_json::Error,
    ) -> Self {
        Self::malformed(
            path,
            json_offset(text, error),
            format!("{what} (JSON): {error}"),
        )
    }

    /// Frame integration of the recording `path` impossible with these settings.
    pub fn integration(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Integration {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// The byte offset in `text` of the line and column `error` names (1-based, as serde_json
/// counts them; the column in bytes).
pub fn json_offset(text: &str, error: &serde_json::Error) -> u64 {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + error.column().saturating_sub(1)).min(text.len()) as u64
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, EventsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_error_names_its_byte_offset() {
        let text = "{\n  \"a\": 1,\n  \"b\": tru\n}";
        let error = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        let offset = json_offset(text, &error) as usize;
        let bad = text.find("tru").unwrap();
        assert!(
            (bad..=bad + 4).contains(&offset),
            "offset {offset} in {text:?} for {error}"
        );
    }
}
