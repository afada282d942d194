//! Native objects behind Java `long` handles.
//!
//! A handle is `Arc::into_raw`. Java guarantees (see `NativeHandle.java`) that a handle is
//! only used between its creation and its disposal, and that disposal waits for every native
//! call in progress on it, so native code may borrow the object for the length of a call.
//! Work that outlives a call (spawned tasks, callbacks) holds clones of what it needs, never
//! a borrow of the handle.

use std::sync::Arc;

use jni::sys::jlong;

use crate::error::{JniError, Result};

/// Turns a native object into a handle for Java.
pub(crate) fn into_handle<T>(value: T) -> jlong {
    Arc::into_raw(Arc::new(value)) as jlong
}

/// Borrows the object behind `handle` for the duration of a native call.
///
/// # Safety
/// `handle` must come from [`into_handle::<T>`] and not be disposed during the call.
pub(crate) unsafe fn borrow<'a, T>(handle: jlong) -> Result<&'a T> {
    if handle == 0 {
        return Err(JniError::IllegalState("the object is closed".into()));
    }
    // SAFETY: guaranteed by the caller.
    Ok(unsafe { &*(handle as *const T) })
}

/// Releases the handle's reference.
///
/// # Safety
/// `handle` must come from [`into_handle::<T>`] and must not be used afterwards.
pub(crate) unsafe fn dispose<T>(handle: jlong) {
    if handle != 0 {
        // SAFETY: guaranteed by the caller.
        drop(unsafe { Arc::from_raw(handle as *const T) });
    }
}
