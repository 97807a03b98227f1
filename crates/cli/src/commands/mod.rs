//! One module per subcommand.

pub mod bench;
pub mod bench_preprocess;
pub mod bench_seed;
pub mod bench_sparse;
pub mod compare;
pub mod data;
pub mod device;
pub mod emulate;
pub mod eval;
pub mod export;
pub mod import;
pub mod model;
pub mod models;
pub mod prepare;
pub mod report;
pub mod train;
