//! Panics of code a caller does not own (a GPU driver that is missing, a record decoder, a
//! reader under fuzzing), turned into errors.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, turning a panic into its message; the panic is not reported on stderr (the
/// message is the caller's to report, once, as an error). Only this thread's panics are
/// silenced, and only meanwhile: the process's panic hook is wrapped once, never swapped.
pub fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, String> {
    static WRAP: Once = Once::new();
    WRAP.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                report(info);
            }
        }));
    });
    let was = QUIET.replace(true);
    let outcome = std::panic::catch_unwind(f);
    QUIET.set(was);
    outcome.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no reason given".to_string())
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(quietly(|| 7), Ok(7));
        let adapter = "none";
        assert_eq!(
            quietly(|| -> u8 { panic!("no adapter: {adapter}") }),
            Err("no adapter: none".to_string())
        );
        assert_eq!(
            quietly(|| -> u8 { panic!("static") }),
            Err("static".to_string())
        );
    }
}
