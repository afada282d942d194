//! Conformance of `fluvio-wire` with the official Fluvio crates (crates.io 0.50.1): for every
//! message kind, the same value encodes to identical bytes on both sides, our decoder reads the
//! official bytes, and the official decoder reads ours.
//!
//! One test binary (to save link time), one module per area.

mod common;

mod cli_output;
mod consumer_offsets;
mod errors;
mod frames;
mod props;
mod records;
mod sc;
mod spu;
mod strategies;
