//! A prefetch: asks for the cache line at an address without waiting for it.

/// Asks for the cache line holding `address`. Only a hint: it changes no value (and
/// does nothing on processors other than x86_64).
#[inline(always)]
pub(crate) fn prefetch<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch neither reads a value the program sees nor faults, whatever the
    // address (it need not even be valid); the instruction (SSE) is in every x86_64
    // processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
