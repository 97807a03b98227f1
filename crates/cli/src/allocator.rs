//! The process's allocator: jemalloc, which keeps freed pages for reuse (a training step
//! allocates tensors of tens of MiB, which glibc would hand back to the kernel and page-fault
//! in again at every step), with its zeroed allocations served from that recycled memory.
//!
//! For a large zeroed allocation jemalloc discards the recycled pages (`madvise`) so that the
//! kernel maps fresh zero pages: a TLB shootdown across the process's threads, then a page
//! fault and a kernel page clear per 4 KiB at the first write. burn's and our kernels ask for
//! zeroed buffers at every step; filling recycled memory with zeros costs a fraction of that.

use std::alloc::{GlobalAlloc, Layout};

use tikv_jemallocator::Jemalloc;

/// jemalloc's settings: freed pages are never returned to the kernel.
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static malloc_conf: &[u8; 36] = b"dirty_decay_ms:-1,muzzy_decay_ms:-1\0";

/// jemalloc, with zeroed allocations filled in recycled memory.
pub struct Allocator;

// SAFETY: every call is jemalloc's own with the same arguments, except `alloc_zeroed`, which
// is jemalloc's `alloc` followed by zeroing the `layout.size()` bytes it returned.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { Jemalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { Jemalloc.alloc(layout) };
        if !ptr.is_null() {
            unsafe { ptr.write_bytes(0, layout.size()) };
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { Jemalloc.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_allocations_are_zero_after_reuse() {
        // A large buffer of non-zero bytes, freed, then zeroed allocations of the same size
        // (served from the recycled memory) must read as zeros.
        for _ in 0..3 {
            let dirty = vec![0xA5u8; 64 << 20];
            drop(std::hint::black_box(dirty));
            let zeroed = vec![0u8; 64 << 20];
            assert!(zeroed.iter().all(|&b| b == 0));
        }
    }
}
