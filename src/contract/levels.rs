//! Log levels as they cross between Java and native code (`FluvioLogging.LEVEL_*`): declared
//! here, beside the contract that pins them to the Java constants, for `fluvio_logging` to use.

/// Logging off.
pub(crate) const LEVEL_OFF: u8 = 0;
/// ERROR and above.
pub(crate) const LEVEL_ERROR: u8 = 1;
/// WARN and above.
pub(crate) const LEVEL_WARN: u8 = 2;
/// INFO and above.
pub(crate) const LEVEL_INFO: u8 = 3;
/// DEBUG and above.
pub(crate) const LEVEL_DEBUG: u8 = 4;
/// Everything.
pub(crate) const LEVEL_TRACE: u8 = 5;
