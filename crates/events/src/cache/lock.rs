//! The lock file of a cache folder: shared while a cache is read, exclusive while it is
//! built, so that two processes never build one cache at once and a cache in use is never
//! rebuilt under a reader. Locks are the operating system's (`flock`): a killed process
//! leaves none behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{EventsError, Result};

/// The lock file's name in a cache folder.
pub(crate) const LOCK_FILE: &str = "lock";

/// A held lock on a cache folder; released when dropped.
#[derive(Debug)]
pub struct CacheLock {
    file: File,
    path: PathBuf,
}

impl CacheLock {
    /// Takes the shared (reading) lock of the cache folder `dir`, without waiting.
    pub(crate) fn shared(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        // Created where it is missing; opened read-only where the folder is not writable
        // (`flock` needs no write access).
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .or_else(|_| File::open(&path))
            .map_err(|e| EventsError::io(&path, e))?;
        let lock = Self { file, path };
        lock.outcome(lock.file.try_lock_shared())?;
        Ok(lock)
    }

    /// Turns this lock exclusive (for building), without waiting: an error if any other
    /// process holds the folder. On that error the shared lock may be gone too (`flock`
    /// converts by releasing first): the caller must drop this lock and stop.
    pub(crate) fn make_exclusive(&self) -> Result<()> {
        self.outcome(self.file.try_lock())
    }

    /// Turns an exclusive lock back into a shared one.
    pub(crate) fn make_shared(&self) -> Result<()> {
        self.file
            .lock_shared()
            .map_err(|e| EventsError::io(&self.path, e))
    }

    fn outcome(&self, result: std::result::Result<(), TryLockError>) -> Result<()> {
        match result {
            Ok(()) => Ok(()),
            Err(TryLockError::WouldBlock) => Err(EventsError::InUse {
                path: self.path.clone(),
            }),
            Err(TryLockError::Error(e)) => Err(EventsError::io(&self.path, e)),
        }
    }
}
