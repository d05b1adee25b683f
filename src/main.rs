//! `assume-role`. On Unix, a small front: a warm `env` or `credential-process`, and `prompt`,
//! are answered here; any other command line goes, unchanged, to `assume-role-full` beside it
//! (`commands::front` says why). Windows has no `exec` to hand over with, and a process
//! start there costs far more than this saves, so there this is the whole program.

use std::process::ExitCode;

#[cfg(not(unix))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(unix)]
#[global_allocator]
static GLOBAL: arena::Arena<{ 256 << 10 }> = arena::Arena::new();

#[cfg(unix)]
fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "assume-role".into());
    let args: Vec<_> = args.collect();
    assume_role::commands::front::serve(&args)
        .unwrap_or_else(|| assume_role::commands::front::hand_over(&argv0, &args))
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    assume_role::commands::main()
}

/// The front's allocator: a bump arena in `.bss` (pages cost only when touched), then the
/// system's. A front run lives well under a millisecond and makes about 300 allocations of 30 KB
/// in all; musl's allocator spread them over a page per size class, each its own `mmap`, and gave
/// every page it emptied back at once (`munmap`), then asked again: a fifth of a warm `env`'s CPU
/// time (docs/src/performance.md). Here they lie side by side and are never given back; a block
/// that does not fit (past the arena's end, or aligned beyond 4 KiB) comes from `System` and goes
/// back to it.
/// mimalloc, the whole program's allocator, touched twice the pages here.
#[cfg(unix)]
mod arena {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The arena's own alignment, and the most a block in it may ask for.
    const ALIGN: usize = 4096;

    #[repr(C, align(4096))]
    pub struct Arena<const SIZE: usize> {
        bytes: UnsafeCell<[u8; SIZE]>,
        /// The offset of the first byte not yet handed out; it only moves forward.
        next: AtomicUsize,
    }

    // Shared between threads only through `next`: each byte is handed out once.
    #[allow(unsafe_code)]
    unsafe impl<const SIZE: usize> Sync for Arena<SIZE> {}

    impl<const SIZE: usize> Arena<SIZE> {
        pub const fn new() -> Self {
            Self {
                bytes: UnsafeCell::new([0; SIZE]),
                next: AtomicUsize::new(0),
            }
        }

        /// A block of the arena for `layout`, if it still has room.
        fn take(&self, layout: Layout) -> Option<*mut u8> {
            if layout.align() > ALIGN {
                return None;
            }
            let mut next = self.next.load(Ordering::Relaxed);
            loop {
                // The base is `ALIGN`-aligned, so an aligned offset is an aligned address.
                let start = next.checked_next_multiple_of(layout.align())?;
                let end = start
                    .checked_add(layout.size())
                    .filter(|&end| end <= SIZE)?;
                match self.next.compare_exchange_weak(
                    next,
                    end,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Some(self.bytes.get().cast::<u8>().wrapping_add(start)),
                    Err(now) => next = now,
                }
            }
        }

        fn owns(&self, ptr: *mut u8) -> bool {
            let base = self.bytes.get().cast::<u8>() as usize;
            (base..base + SIZE).contains(&(ptr as usize))
        }
    }

    // `GlobalAlloc` is an unsafe trait. Every block is either a range of the arena that no other
    // block overlaps (`next` only moves forward) or `System`'s, and goes back only to `System`.
    #[allow(unsafe_code)]
    unsafe impl<const SIZE: usize> GlobalAlloc for Arena<SIZE> {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            match self.take(layout) {
                Some(block) => block,
                // SAFETY: the caller's guarantees about `layout`, passed on unchanged.
                None => unsafe { System.alloc(layout) },
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if !self.owns(ptr) {
                // SAFETY: a block outside the arena came from `System` with this layout.
                unsafe { System.dealloc(ptr, layout) }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn blocks_are_aligned_apart_and_spill_over_to_the_system() {
            static ARENA: Arena<8192> = Arena::new();
            let mut blocks = Vec::new();
            for (size, align) in [(1, 1), (3, 2), (24, 8), (100, 16), (64, 64), (3000, 4096)] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let block = ARENA.take(layout).expect("room in the arena");
                assert!(ARENA.owns(block));
                assert_eq!(block as usize % align, 0);
                blocks.push((block as usize, size));
            }
            blocks.sort_unstable();
            assert!(
                blocks.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0),
                "{blocks:?}"
            );
            // No room left, or more aligned than the arena: the system's, and freed to it.
            for layout in [
                Layout::from_size_align(4096, 8).unwrap(),
                Layout::from_size_align(16, 2 * ALIGN).unwrap(),
            ] {
                assert!(ARENA.take(layout).is_none());
                // SAFETY: a non-zero size; the block is freed with the layout it was made with.
                #[allow(unsafe_code)]
                unsafe {
                    let block = ARENA.alloc(layout);
                    assert!(!block.is_null() && !ARENA.owns(block));
                    assert_eq!(block as usize % layout.align(), 0);
                    ARENA.dealloc(block, layout);
                }
            }
            // What is left is still handed out.
            assert!(ARENA.take(Layout::from_size_align(8, 8).unwrap()).is_some());
        }
    }
}
