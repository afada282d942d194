//! Shared test machinery: the conformance harness and the conversions between our types
//! (`fluvio_wire`) and the official ones (crates.io `fluvio-*` 0.50.1).
//!
//! Every check follows the same three properties:
//! 1. the same value encodes to identical bytes on both sides;
//! 2. our decoder reads the official bytes back to the original value;
//! 3. the official decoder reads our bytes back to the original value (and re-encodes them
//!    to the very same bytes, which also covers fields the official types keep private).

pub mod convert;

use std::fmt::Debug;
use std::io::Cursor;

use bytes::Bytes;
use fluvio_protocol::{Decoder as TheirDecoder, Encoder as TheirEncoder};
use fluvio_wire::{Decoder as OurDecoder, Encoder as OurEncoder, Version};

/// Hex dump, 16 bytes per group, for failure messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|chunk| chunk.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Asserts two encodings are identical, reporting the first differing offset.
#[track_caller]
pub fn assert_same_bytes(ours: &[u8], theirs: &[u8], what: &str) {
    if ours == theirs {
        return;
    }
    let first_diff = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    let from = first_diff.saturating_sub(16);
    let window = |bytes: &[u8]| hex(&bytes[from.min(bytes.len())..(first_diff + 32).min(bytes.len())]);
    let head = |bytes: &[u8]| hex(&bytes[..bytes.len().min(128)]);
    panic!(
        "{what}: encodings differ (ours {} bytes, theirs {} bytes), first difference at byte {first_diff}\n  \
         ours  [{from}..]: {}\n  theirs[{from}..]: {}\n  ours  (head): {}\n  theirs(head): {}",
        ours.len(),
        theirs.len(),
        window(ours),
        window(theirs),
        head(ours),
        head(theirs),
    );
}

/// Encodes with our codec.
#[track_caller]
pub fn our_bytes<O: OurEncoder + ?Sized>(value: &O, version: Version) -> Vec<u8> {
    value.to_bytes(version).unwrap_or_else(|e| panic!("our encoder failed at v{version}: {e}")).to_vec()
}

/// Encodes with the official codec.
#[track_caller]
pub fn their_bytes<T: TheirEncoder>(value: &T, version: Version) -> Vec<u8> {
    let bytes = value.as_bytes(version).unwrap_or_else(|e| panic!("official encoder failed at v{version}: {e}"));
    bytes.to_vec()
}

/// Decodes with our codec, requiring every byte to be used.
#[track_caller]
pub fn our_decode<O: OurDecoder>(bytes: &[u8], version: Version) -> O {
    O::decode_exact(Bytes::copy_from_slice(bytes), version)
        .unwrap_or_else(|e| panic!("our decoder failed at v{version}: {e}\n  bytes: {}", hex(bytes)))
}

/// Decodes with the official codec, requiring every byte to be used.
#[track_caller]
pub fn their_decode<T: TheirDecoder>(bytes: &[u8], version: Version) -> T {
    let mut cursor = Cursor::new(bytes);
    let value = T::decode_from(&mut cursor, version)
        .unwrap_or_else(|e| panic!("official decoder failed at v{version}: {e}\n  bytes: {}", hex(bytes)));
    assert_eq!(
        cursor.position() as usize,
        bytes.len(),
        "official decoder left {} trailing bytes at v{version}",
        bytes.len() - cursor.position() as usize
    );
    value
}

/// Checks the three properties at `version` and returns what our decoder read from the
/// official bytes. It does not compare that with `ours`: at older versions gated fields are
/// dropped on the wire, so the caller decides what to expect (see [`check_exact`]).
///
/// * `to_theirs` builds the official value equal to `ours`;
/// * `to_ours` converts an official value back (used on what the official decoder read).
#[track_caller]
pub fn check<O, T>(
    what: &str,
    ours: &O,
    version: Version,
    to_theirs: impl Fn(&O, Version) -> T,
    to_ours: impl Fn(T, Version) -> O,
) -> O
where
    O: OurEncoder + OurDecoder + PartialEq + Debug,
    T: TheirEncoder + TheirDecoder,
{
    let what = format!("{what} @v{version}");
    let our_encoding = our_bytes(ours, version);
    let their_encoding = their_bytes(&to_theirs(ours, version), version);
    assert_same_bytes(&our_encoding, &their_encoding, &what);

    // Our decoder on the official bytes.
    let ours_from_theirs: O = our_decode(&their_encoding, version);

    // The official decoder on our bytes: it must take them all, re-encode them identically,
    // and agree with our decoder on the value.
    let theirs_from_ours: T = their_decode(&our_encoding, version);
    assert_same_bytes(
        &their_bytes(&theirs_from_ours, version),
        &our_encoding,
        &format!("{what}: official decode + re-encode of our bytes"),
    );
    let theirs_from_ours = to_ours(theirs_from_ours, version);
    assert_eq!(theirs_from_ours, ours_from_theirs, "{what}: the two decoders disagree");
    ours_from_theirs
}

/// [`check`] at a version where every field of the value is on the wire: both decoders must
/// give back exactly `ours`.
#[track_caller]
pub fn check_exact<O, T>(
    what: &str,
    ours: &O,
    version: Version,
    to_theirs: impl Fn(&O, Version) -> T,
    to_ours: impl Fn(T, Version) -> O,
) where
    O: OurEncoder + OurDecoder + PartialEq + Debug,
    T: TheirEncoder + TheirDecoder,
{
    let decoded = check(what, ours, version, to_theirs, to_ours);
    assert_eq!(&decoded, ours, "{what} @v{version}: decoding did not give back the original value");
}

/// Parses a space-separated hex string (used for pinned vectors).
pub fn unhex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).expect("hex byte")).collect()
}
