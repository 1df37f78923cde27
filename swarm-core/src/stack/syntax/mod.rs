//! The syntax of compose files below the level of services: typed reading of YAML values with
//! their field paths, interpolation, env files, shell words, durations, sizes and CPU counts.

pub(crate) mod duration;
pub(crate) mod env_file;
pub(crate) mod interpolation;
pub(crate) mod node;
pub(crate) mod shell_words;
pub(crate) mod units;
