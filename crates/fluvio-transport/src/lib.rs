//! What the Fluvio client engine (`fluvio-engine`) and the embedded cluster (`fluvio-local`)
//! share below the protocol, so that neither imports the other:
//!
//! * [`framed`]: the writer a connection's frames go through, and the test for a TLS record
//!   where a Fluvio frame was expected;
//! * [`Pem`]: a certificate or key given as a PEM file or as PEM text, read into rustls's types.
//!
//! The codec itself (frames, headers, messages) is `fluvio-wire`, which does no I/O.

#![warn(missing_docs)]

pub mod framed;
mod pem;

pub use pem::{Pem, PemError};
