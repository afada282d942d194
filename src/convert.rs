//! Java values to Rust values, and Rust values to the compact byte form Java decodes
//! (`com.infinyon.fluvio.Unpacker`): big-endian integers, strings as an i32 byte length
//! (-1 for null) followed by UTF-8, byte strings the same way.

use std::cell::RefCell;

use fluvio_engine::ConsumerRecord;
use jni::JNIEnv;
use jni::objects::{JByteArray, JString};
use jni::sys::jbyteArray;

use crate::error::{JniError, Result};

/// A Java string argument that must not be null.
pub(crate) fn string(env: &mut JNIEnv, value: &JString, what: &str) -> Result<String> {
    if value.is_null() {
        return Err(JniError::IllegalArgument(format!("{what} must not be null")));
    }
    Ok(env.get_string(value)?.into())
}

/// A Java string argument that may be null.
pub(crate) fn optional_string(env: &mut JNIEnv, value: &JString) -> Result<Option<String>> {
    if value.is_null() { Ok(None) } else { Ok(Some(env.get_string(value)?.into())) }
}

thread_local! {
    /// Reused per thread for the bytes of a record being sent (no allocation per send).
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn read_into(env: &mut JNIEnv, array: &JByteArray, buf: &mut Vec<u8>) -> Result<()> {
    let len = env.get_array_length(array)? as usize;
    buf.clear();
    buf.resize(len, 0);
    // SAFETY: u8 and i8 have the same size and alignment.
    let signed = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<i8>(), len) };
    env.get_byte_array_region(array, 0, signed)?;
    Ok(())
}

/// Runs `f` with a copy of a key (null allowed) and a value (never null).
pub(crate) fn with_key_value<R>(
    env: &mut JNIEnv,
    key: &JByteArray,
    value: &JByteArray,
    f: impl FnOnce(Option<&[u8]>, &[u8]) -> Result<R>,
) -> Result<R> {
    if value.is_null() {
        return Err(JniError::IllegalArgument("value must not be null".into()));
    }
    SCRATCH.with(|scratch| {
        // A reentrant call (a callback sending from inside a send) gets its own buffers.
        let mut owned;
        let mut borrowed = scratch.try_borrow_mut();
        let (key_buf, value_buf) = match borrowed.as_deref_mut() {
            Ok((key, value)) => (key, value),
            Err(_) => {
                owned = (Vec::new(), Vec::new());
                (&mut owned.0, &mut owned.1)
            }
        };
        let has_key = !key.is_null();
        if has_key {
            read_into(env, key, key_buf)?;
        }
        read_into(env, value, value_buf)?;
        f(has_key.then_some(key_buf.as_slice()), value_buf.as_slice())
    })
}

/// Writes the compact form.
#[derive(Default)]
pub(crate) struct Packer {
    buf: Vec<u8>,
}

impl Packer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity) }
    }

    pub(crate) fn i32(&mut self, value: i32) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn i64(&mut self, value: i64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn bool(&mut self, value: bool) -> &mut Self {
        self.buf.push(u8::from(value));
        self
    }

    pub(crate) fn bytes(&mut self, value: Option<&[u8]>) -> &mut Self {
        match value {
            None => self.i32(-1),
            Some(bytes) => {
                self.i32(i32::try_from(bytes.len()).unwrap_or(i32::MAX));
                self.buf.extend_from_slice(bytes);
                self
            }
        }
    }

    pub(crate) fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(Some(value.as_bytes()))
    }

    pub(crate) fn opt_str(&mut self, value: Option<&str>) -> &mut Self {
        self.bytes(value.map(str::as_bytes))
    }

    /// A new Java `byte[]` holding what was written.
    pub(crate) fn into_java(self, env: &mut JNIEnv) -> Result<jbyteArray> {
        Ok(env.byte_array_from_slice(&self.buf)?.into_raw())
    }
}

/// Packs records: count, then per record partition, offset, timestamp, key, value.
pub(crate) fn pack_records(records: &[ConsumerRecord]) -> Packer {
    let size: usize = records.iter().map(|r| 32 + r.key.as_ref().map_or(0, |k| k.len()) + r.value.len()).sum();
    let mut packer = Packer::with_capacity(4 + size);
    packer.i32(records.len() as i32);
    for record in records {
        packer
            .i32(record.partition as i32)
            .i64(record.offset)
            .i64(record.timestamp)
            .bytes(record.key.as_deref())
            .bytes(Some(&record.value));
    }
    packer
}
