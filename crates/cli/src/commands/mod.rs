//! One module per subcommand.

pub mod bench;
pub mod bench_preprocess;
pub mod emulate;
pub mod prepare;
