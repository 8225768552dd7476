//! The addon's global allocator: the system's, with transparent huge pages for large blocks.
//!
//! A read's output, a shard's bytes and a chunk's decoded bytes are blocks of megabytes that are
//! allocated, written once and freed per call. glibc maps such blocks afresh from the kernel and
//! unmaps them on free, so every call faults its memory in again, one 4 KiB page at a time:
//! touching 256 MiB that way took 215 ms here, against 50 ms in 2 MiB pages. Linux gives huge
//! pages to anonymous memory that asks for them (`madvise`, the default THP mode), as numpy asks
//! for its arrays of 4 MiB and more. Freed memory still goes back to the kernel at once (unlike
//! mimalloc, which was tried: its faster reuse cost 50-180 MiB more peak memory in conversions).
//! Only the addon's Rust allocations pass through here; Node's own stay with the system's.
//! `ZARRS_NODE_HUGEPAGES=0` turns the advice off (as `NUMPY_MADVISE_HUGEPAGE=0` does numpy's).

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, asking the kernel for huge pages for blocks of [`HUGE_FROM`] or more.
pub struct HugePages;

/// The smallest block that asks for huge pages (numpy's threshold): a smaller one holds at most
/// one whole aligned huge page, and a partly touched huge page costs up to 2 MiB of memory.
const HUGE_FROM: usize = 4 << 20;

// SAFETY: every call forwards to `System` with the caller's layout unchanged; `advise` only
// changes how the kernel backs pages of a block that was just handed out.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc(layout) };
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.realloc(ptr, layout, new_size) };
        advise(ptr, new_size);
        ptr
    }
}

/// Asks for huge pages over the whole 2 MiB pages inside `[ptr, ptr + size)`. Advice only: a
/// kernel without THP, or with it off, refuses it and the block keeps 4 KiB pages.
#[cfg(target_os = "linux")]
fn advise(ptr: *mut u8, size: usize) {
    const HUGE_PAGE: usize = 2 << 20;
    if ptr.is_null() || size < HUGE_FROM || !enabled() {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + size) & !(HUGE_PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside a block the allocator just handed out; MADV_HUGEPAGE
        // changes no contents and its failure is harmless (ignored on purpose).
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_ptr: *mut u8, _size: usize) {}

/// Whether `ZARRS_NODE_HUGEPAGES` leaves the advice on, read once. `getenv` because an allocator
/// must not allocate (`std::env::var` does).
#[cfg(target_os = "linux")]
fn enabled() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    const UNKNOWN: u8 = 0;
    const ON: u8 = 1;
    const OFF: u8 = 2;
    static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => {
            // SAFETY: a NUL-terminated name; the value is only read here, and getenv races
            // only with setenv, which the addon never calls.
            let off = unsafe {
                let v = libc::getenv(c"ZARRS_NODE_HUGEPAGES".as_ptr());
                !v.is_null() && *v == b'0' as libc::c_char
            };
            STATE.store(if off { OFF } else { ON }, Ordering::Relaxed);
            !off
        }
    }
}
