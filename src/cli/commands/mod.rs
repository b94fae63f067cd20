//! One file per subcommand: its clap arguments (`Args`) and `run`, which turns them into an
//! [`crate::app`] request, calls it and prints the result.

pub mod audit;
pub mod catalog;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod fleet;
pub mod import;
pub mod init;
pub mod listen;
pub mod plan;
pub mod ports;
pub mod probe;
pub mod render;
pub mod report;
pub mod serve;
pub mod site_schema;
