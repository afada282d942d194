//! Values across the boundary: Java arguments read into Rust values (strings, durations, enums
//! by name, and the Java objects that carry settings, read through the accessors the contract
//! declares), and Rust results written in the compact form Java decodes
//! (`com.infinyon.fluvio.Unpacker`): big-endian integers, strings as an i32 byte length (-1 for
//! null) followed by UTF-8, byte strings the same way. Each packed layout is pinned by a sample
//! (`NativeLibrary.Layout`) that `ContractTest` decodes.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::time::Duration;

use fluvio_engine::config::{ClientTls, Pem, VerifiedTls};
use fluvio_engine::{ConsumerRecord, MetricsSnapshot, Offset, RecordRef};
use fluvio_local::ServerTls;
use jni::JNIEnv;
use jni::objects::{JByteArray, JIntArray, JObject, JString};
use jni::sys::jint;

use crate::contract::java::{self, OffsetFrom, PolicyKind};
use crate::contract::types::JavaClass;
use crate::contract::{JavaEnum, JavaString, Obj, ObjArray};
use crate::error::{JniError, Result};

/// Runs `read` in a local frame of its own: reading a Java object through its accessors makes a
/// local reference per call, all freed when the frame ends (only Rust values come out).
pub(crate) fn in_frame<T>(env: &mut JNIEnv, read: impl FnOnce(&mut JNIEnv) -> Result<T>) -> Result<T> {
    env.with_local_frame(64, read)
}

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

/// A new Java `String[]` of `values`.
pub(crate) fn string_array<'local>(
    env: &mut JNIEnv<'local>,
    values: &[impl AsRef<str>],
) -> Result<ObjArray<'local, JavaString>> {
    let array = env.new_object_array(values.len() as i32, JavaString::NAME, JObject::null())?;
    for (index, value) in values.iter().enumerate() {
        let value = env.new_string(value.as_ref())?;
        env.set_object_array_element(&array, index as i32, &value)?;
        env.delete_local_ref(value)?;
    }
    Ok(ObjArray::from_array(array))
}

/// An argument that must not be null.
pub(crate) fn required<'a, 'local, C>(value: &'a Obj<'local, C>, what: &str) -> Result<&'a Obj<'local, C>> {
    if value.is_null() {
        return Err(JniError::IllegalArgument(format!("{what} must not be null")));
    }
    Ok(value)
}

/// The longest duration that crosses: `Long.MAX_VALUE` milliseconds (some 292 million years,
/// "forever" to every setting). Longer Java durations are taken as this long, so that no
/// deadline computed from one overflows.
const LONGEST: Duration = Duration::from_millis(i64::MAX as u64);

/// A `java.time.Duration` (at most [`LONGEST`]); a negative one is refused.
pub(crate) fn duration(env: &mut JNIEnv, value: &Obj<java::Duration>, what: &str) -> Result<Duration> {
    required(value, what)?;
    let seconds = java::Duration::get_seconds(env, value)?;
    let nanos = java::Duration::get_nano(env, value)?;
    let seconds =
        u64::try_from(seconds).map_err(|_| JniError::IllegalArgument(format!("{what} must not be negative")))?;
    Ok(Duration::new(seconds.min(LONGEST.as_secs()), nanos.clamp(0, 999_999_999) as u32).min(LONGEST))
}

/// The Rust value of a Java enum constant (`None` for null).
pub(crate) fn enum_value<E: JavaEnum>(env: &mut JNIEnv, object: &JObject) -> Result<Option<E::Rust>> {
    use crate::contract::enums::{EnumError, from_java};
    from_java::<E>(env, object).map_err(|err| match err {
        EnumError::Jni(err) => err.into(),
        EnumError::Unknown { class, name } => {
            JniError::IllegalArgument(format!("{class} has no constant {name} the native library knows"))
        }
    })
}

/// The Rust value of a Java enum constant that must not be null.
pub(crate) fn required_enum<E: JavaEnum>(env: &mut JNIEnv, object: &JObject, what: &str) -> Result<E::Rust> {
    enum_value::<E>(env, object)?.ok_or_else(|| JniError::IllegalArgument(format!("{what} must not be null")))
}

/// A non-negative Java count as a `usize`.
pub(crate) fn count(value: i64, what: &str) -> Result<usize> {
    usize::try_from(value).map_err(|_| JniError::IllegalArgument(format!("{what} must not be negative, not {value}")))
}

/// An `Offset`: where a consumer starts.
pub(crate) fn offset(env: &mut JNIEnv, value: &Obj<java::Offset>) -> Result<Offset> {
    in_frame(env, |env| read_offset(env, value))
}

fn read_offset(env: &mut JNIEnv, value: &Obj<java::Offset>) -> Result<Offset> {
    required(value, "offset")?;
    let kind = java::Offset::kind(env, value)?;
    let kind = required_enum::<java::OffsetKind>(env, &kind, "offset kind")?;
    let value = java::Offset::value(env, value)?;
    let count = || u64::try_from(value).map_err(|_| JniError::IllegalArgument(format!("offset {value} is negative")));
    Ok(match kind {
        OffsetFrom::Beginning => Offset::beginning(),
        OffsetFrom::End => Offset::end(),
        OffsetFrom::Absolute => {
            Offset::absolute(value).map_err(|_| JniError::IllegalArgument(format!("offset {value} is negative")))?
        }
        OffsetFrom::FromBeginning => Offset::from_beginning(count()?),
        OffsetFrom::FromEnd => Offset::from_end(count()?),
    })
}

/// A `Pem` (null: none).
fn pem(env: &mut JNIEnv, value: Obj<java::Pem>) -> Result<Option<Pem>> {
    let Some(value) = value.non_null() else { return Ok(None) };
    let is_file = java::Pem::is_file(env, &value)? != 0;
    let text = java::Pem::value(env, &value)?;
    let text = string(env, &text, "a certificate or key")?;
    Ok(Some(if is_file { Pem::File(text.into()) } else { Pem::Inline(text) }))
}

/// A client's `TlsConfig` (null: disabled). Certificates from files and PEM text may be mixed:
/// the engine reads the files when connecting.
pub(crate) fn client_tls(env: &mut JNIEnv, value: &Obj<java::TlsConfig>) -> Result<ClientTls> {
    in_frame(env, |env| read_client_tls(env, value))
}

fn read_client_tls(env: &mut JNIEnv, value: &Obj<java::TlsConfig>) -> Result<ClientTls> {
    if value.is_null() {
        return Ok(ClientTls::Disabled);
    }
    let policy = java::TlsConfig::policy(env, value)?;
    Ok(match required_enum::<java::TlsPolicy>(env, &policy, "policy")? {
        PolicyKind::Disabled => ClientTls::Disabled,
        PolicyKind::AnonymousInsecure => ClientTls::AnonymousInsecure,
        PolicyKind::Verified => {
            let domain = java::TlsConfig::domain(env, value)?;
            let domain = string(env, &domain, "domain")?;
            let ca_cert = java::TlsConfig::ca_cert(env, value)?;
            let cert = java::TlsConfig::client_cert(env, value)?;
            let key = java::TlsConfig::client_key(env, value)?;
            ClientTls::Verified(VerifiedTls {
                domain,
                ca_cert: pem(env, ca_cert)?,
                cert: pem(env, cert)?,
                key: pem(env, key)?,
            })
        }
    })
}

/// The embedded cluster's `LocalClusterTls`. Files are read when the cluster starts.
pub(crate) fn server_tls(env: &mut JNIEnv, value: &Obj<java::LocalClusterTls>) -> Result<ServerTls> {
    in_frame(env, |env| read_server_tls(env, value))
}

fn read_server_tls(env: &mut JNIEnv, value: &Obj<java::LocalClusterTls>) -> Result<ServerTls> {
    let missing = |what: &str| JniError::IllegalArgument(format!("a server {what} is required"));
    let cert = java::LocalClusterTls::server_cert(env, value)?;
    let cert = pem(env, cert)?.ok_or_else(|| missing("certificate"))?;
    let key = java::LocalClusterTls::server_key(env, value)?;
    let key = pem(env, key)?.ok_or_else(|| missing("key"))?;
    let mut tls = ServerTls::new(cert, key);
    let ca = java::LocalClusterTls::client_ca(env, value)?;
    if let Some(ca) = pem(env, ca)? {
        tls = tls.client_ca(ca);
    }
    let domain = java::LocalClusterTls::domain(env, value)?;
    if let Some(domain) = optional_string(env, &domain)? {
        tls = tls.domain(domain);
    }
    Ok(tls.require_client_cert(java::LocalClusterTls::require_client_cert(env, value)? != 0))
}

thread_local! {
    /// Reused per thread for the bytes of a record being sent (no allocation per send).
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Replaces `buf`'s contents with the `len` bytes of `array` (its length, read by the caller).
fn read_into(env: &JNIEnv, array: &JByteArray, len: usize, buf: &mut Vec<u8>) {
    buf.clear();
    buf.reserve(len);
    copy_region(env, array, &mut buf.spare_capacity_mut()[..len]);
    // SAFETY: `copy_region` initialized the first `len` bytes of the spare capacity.
    unsafe { buf.set_len(len) };
}

/// The elements of an int array that must not be null.
pub(crate) fn int_array(env: &mut JNIEnv, array: &JIntArray, what: &str) -> Result<Vec<i32>> {
    if array.is_null() {
        return Err(JniError::IllegalArgument(format!("{what} must not be null")));
    }
    let mut values = vec![0; env.get_array_length(array)? as usize];
    env.get_int_array_region(array, 0, &mut values)?;
    Ok(values)
}

/// A copy of a byte array that must not be null.
pub(crate) fn bytes(env: &mut JNIEnv, array: &JByteArray, what: &str) -> Result<Vec<u8>> {
    if array.is_null() {
        return Err(JniError::IllegalArgument(format!("{what} must not be null")));
    }
    let mut buf = Vec::new();
    read_into(env, array, array_length(env, array), &mut buf);
    Ok(buf)
}

/// A record whose key and value together take at most this many bytes is copied onto the
/// stack: no thread-local lookup and no allocation per `send` (the common small record).
const STACK_RECORD_BYTES: usize = 1024;

/// Runs `f` with a copy of a key (null allowed) and a value (never null). `key_len` and
/// `value_len` are the arrays' own lengths, which the Java caller passes (`array.length`, free
/// there) so that no `GetArrayLength` crossing is made per record: the copies trust them to be
/// exact, and anything else is refused unless it is the length of a null key.
pub(crate) fn with_key_value<R>(
    env: &mut JNIEnv,
    key: &JByteArray,
    key_len: jint,
    value: &JByteArray,
    value_len: jint,
    f: impl FnOnce(&mut JNIEnv, Option<&[u8]>, &[u8]) -> Result<R>,
) -> Result<R> {
    if value.is_null() {
        return Err(JniError::IllegalArgument("value must not be null".into()));
    }
    let negative = || JniError::IllegalArgument("a key or value length is negative".into());
    let key_len = match (key.is_null(), usize::try_from(key_len)) {
        (true, _) => None,
        (false, Ok(len)) => Some(len),
        (false, Err(_)) => return Err(negative()),
    };
    let value_len = usize::try_from(value_len).map_err(|_| negative())?;
    if key_len.unwrap_or(0) + value_len <= STACK_RECORD_BYTES {
        let mut stack = [MaybeUninit::<u8>::uninit(); STACK_RECORD_BYTES];
        let (key_part, value_part) = stack.split_at_mut(key_len.unwrap_or(0));
        let key = key_len.map(|len| copy_region(env, key, &mut key_part[..len]));
        let value = copy_region(env, value, &mut value_part[..value_len]);
        return f(env, key, value);
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
        if let Some(len) = key_len {
            read_into(env, key, len, key_buf);
        }
        read_into(env, value, value_len, value_buf);
        f(env, key_len.map(|_| key_buf.as_slice()), value_buf.as_slice())
    })
}

/// The length of a non-null byte array: one JNI call, which cannot throw.
fn array_length(env: &JNIEnv, array: &JByteArray) -> usize {
    let raw = env.get_raw();
    // SAFETY: `raw` is this thread's valid JNIEnv and `array` a live non-null local reference.
    let len = unsafe { (**raw).GetArrayLength.expect("every JVM provides GetArrayLength")(raw, array.as_raw()) };
    len.max(0) as usize
}

/// Copies the whole of `array`, whose length is `into.len()`, into `into`, and returns it,
/// now initialized. The caller read that length from the array, or was given it by the Java
/// code that read it: the region is in bounds, so the copy cannot throw and needs no exception
/// check.
fn copy_region<'b>(env: &JNIEnv, array: &JByteArray, into: &'b mut [MaybeUninit<u8>]) -> &'b [u8] {
    let raw = env.get_raw();
    // SAFETY: `raw` is this thread's valid JNIEnv; `array` is a live non-null local reference
    // of `into.len()` elements, so GetByteArrayRegion writes exactly `into.len()` bytes.
    unsafe {
        let copy = (**raw).GetByteArrayRegion.expect("every JVM provides GetByteArrayRegion");
        copy(raw, array.as_raw(), 0, into.len() as jni::sys::jsize, into.as_mut_ptr().cast::<jni::sys::jbyte>());
        std::slice::from_raw_parts(into.as_ptr().cast::<u8>(), into.len())
    }
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

    /// A Java enum constant, by name.
    pub(crate) fn constant<E: JavaEnum>(&mut self, value: E::Rust) -> &mut Self {
        self.str(E::name(value))
    }

    /// A `Pem` as `Pem.unpack` reads it: the path or text (null: none), then whether it is a file.
    pub(crate) fn pem(&mut self, value: Option<&Pem>) -> &mut Self {
        match value {
            None => self.opt_str(None).bool(false),
            Some(Pem::File(path)) => self.str(&path.display().to_string()).bool(true),
            Some(Pem::Inline(text)) => self.str(text).bool(false),
        }
    }

    /// Appends what `other` wrote.
    pub(crate) fn append(&mut self, other: Packer) -> &mut Self {
        self.buf.extend_from_slice(&other.buf);
        self
    }

    /// A new Java `byte[]` holding what was written.
    pub(crate) fn into_java<'local>(self, env: &mut JNIEnv<'local>) -> Result<JByteArray<'local>> {
        Ok(env.byte_array_from_slice(&self.buf)?)
    }
}

/// Packs records (layout `RECORDS`): count, then per record partition, offset, timestamp, key,
/// value.
pub(crate) fn pack_records(records: &[ConsumerRecord]) -> Packer {
    let size: usize = records.iter().map(packed_record_len).sum();
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

/// The size of `record` in layout `RECORDS`.
pub(crate) fn packed_record_len(record: &ConsumerRecord) -> usize {
    packed_len(record.key.as_deref(), &record.value)
}

/// The size in layout `RECORDS` of a record with this key and value: partition, offset,
/// timestamp and the two lengths take 32 bytes.
fn packed_len(key: Option<&[u8]>, value: &[u8]) -> usize {
    32 + key.map_or(0, <[u8]>::len) + value.len()
}

/// Writes records in layout `RECORDS` straight into memory Java owns (a direct buffer): the
/// count first (patched by [`RecordWriter::finish`]), then each record.
pub(crate) struct RecordWriter<'a> {
    dst: &'a mut [u8],
    len: usize,
    count: i32,
}

impl<'a> RecordWriter<'a> {
    /// A writer over `dst`, which must hold at least the 4-byte count.
    pub(crate) fn new(dst: &'a mut [u8]) -> Option<Self> {
        (dst.len() >= 4).then_some(Self { dst, len: 4, count: 0 })
    }

    /// Appends `record` if it fits; false (and nothing written) when it does not.
    pub(crate) fn push(&mut self, record: &ConsumerRecord) -> bool {
        self.push_ref(RecordRef {
            partition: record.partition,
            offset: record.offset,
            timestamp: record.timestamp,
            key: record.key.as_deref(),
            value: &record.value,
        })
    }

    /// Appends a borrowed record if it fits; false (and nothing written) when it does not.
    pub(crate) fn push_ref(&mut self, record: RecordRef<'_>) -> bool {
        if self.len + packed_len(record.key, record.value) > self.dst.len() {
            return false;
        }
        self.put(&(record.partition as i32).to_be_bytes());
        self.put(&record.offset.to_be_bytes());
        self.put(&record.timestamp.to_be_bytes());
        match record.key {
            Some(key) => {
                self.put(&(key.len() as i32).to_be_bytes());
                self.put(key);
            }
            None => self.put(&(-1i32).to_be_bytes()),
        }
        self.put(&(record.value.len() as i32).to_be_bytes());
        self.put(record.value);
        self.count += 1;
        true
    }

    fn put(&mut self, bytes: &[u8]) {
        self.dst[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Writes the count; the bytes written.
    pub(crate) fn finish(self) -> usize {
        self.dst[..4].copy_from_slice(&self.count.to_be_bytes());
        self.len
    }
}

/// Packs metrics (layout `METRICS`): the counters, the errors (count, then per kind its
/// `FluvioException.Code` name and count), then the send and the fetch latencies (count, then
/// mean, p50, p90, p99, p99.9 and max in microseconds).
pub(crate) fn pack_metrics(metrics: &MetricsSnapshot) -> Packer {
    let mut packer = Packer::with_capacity(256);
    for counter in [
        metrics.records_sent,
        metrics.bytes_sent,
        metrics.batches_sent,
        metrics.records_received,
        metrics.bytes_received,
        metrics.batches_received,
        metrics.retries,
        metrics.reconnects,
        metrics.in_flight_requests,
    ] {
        packer.i64(counter as i64);
    }
    packer.i32(metrics.errors.len() as i32);
    for (kind, count) in &metrics.errors {
        packer.str(crate::error::code_name(*kind)).i64(*count as i64);
    }
    for latency in [&metrics.send_latency, &metrics.fetch_latency] {
        packer.i64(latency.count as i64);
        for value in [latency.mean, latency.p50, latency.p90, latency.p99, latency.p999, latency.max] {
            packer.i64(value.as_micros() as i64);
        }
    }
    packer
}

/// The sample of layout `METRICS` that `ContractTest` decodes: every field a distinct value.
pub(crate) fn sample_metrics() -> Packer {
    let latency = |base: u64| fluvio_engine::LatencySnapshot {
        count: base,
        mean: Duration::from_micros(base + 1),
        p50: Duration::from_micros(base + 2),
        p90: Duration::from_micros(base + 3),
        p99: Duration::from_micros(base + 4),
        p999: Duration::from_micros(base + 5),
        max: Duration::from_micros(base + 6),
    };
    pack_metrics(&MetricsSnapshot {
        records_sent: 1,
        bytes_sent: 2,
        batches_sent: 3,
        records_received: 4,
        bytes_received: 5,
        batches_received: 6,
        retries: 7,
        reconnects: 8,
        in_flight_requests: 9,
        errors: vec![(fluvio_engine::ErrorKind::Timeout, 10), (fluvio_engine::ErrorKind::NotLeader, 11)],
        send_latency: latency(100),
        fetch_latency: latency(200),
    })
}

/// The sample of layout `RECORDS` that `ContractTest` decodes.
pub(crate) fn sample_records() -> Packer {
    let record = |partition, offset, timestamp, key: Option<&'static [u8]>, value: &'static [u8]| ConsumerRecord {
        partition,
        offset,
        timestamp,
        key: key.map(bytes::Bytes::from_static),
        value: bytes::Bytes::from_static(value),
    };
    pack_records(&[record(7, 42, 1_700_000_000_123, Some(b"key"), b"value"), record(3, 43, -1, None, b"")])
}
