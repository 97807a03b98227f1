//! Panics of code this crate calls but does not own (a GPU driver that is missing, a
//! parameter record that does not decode), turned into errors.

/// Runs `f`, turning a panic into its message, with the panic hook silenced meanwhile (the
/// message is the caller's to report, once, as an error, instead of a panic report on
/// stderr before it).
pub fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
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
