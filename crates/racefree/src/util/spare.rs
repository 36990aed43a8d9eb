//! Spare blocks: the memory of freed entries, kept by the thread that
//! freed them for its next entry of the same layout.
//!
//! ReadMostlyMap allocates an entry on every write and frees the old one
//! later, when the collector reclaims a batch of them at once. glibc keeps
//! only 7 freed blocks of a size per thread, so most of a batch went back
//! through its slower bins, and the batch's next large allocation made it
//! consolidate them: on one hot key, malloc and free were about half of a
//! write. A general allocator cannot know that the blocks come back in
//! batches; this small per-thread list does, which is why it is written
//! here rather than taken from a crate. It holds at most
//! [`BYTES_PER_LAYOUT`] for each of [`LAYOUTS`] layouts per thread, and
//! frees them when the thread exits.
//!
//! Blocks are allocated and freed with the global allocator and the
//! type's own layout, as `Box` does, so a pointer from [`boxed`] may be
//! freed with `Box::from_raw` and a `Box`'s with [`free`].

#![allow(unsafe_code)]

/// Bytes of spare blocks a thread keeps for one layout: one batch of the
/// collector's, so a thread that reclaims a batch can keep all of it.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const BYTES_PER_LAYOUT: usize = super::reclaim::BATCH_BYTES;

/// Layouts a thread keeps spare blocks for.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const LAYOUTS: usize = 4;

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
mod imp {
    use std::alloc::{self, Layout};
    use std::cell::RefCell;
    use std::ptr::{self, NonNull};

    use super::{BYTES_PER_LAYOUT, LAYOUTS};

    /// Free blocks of one layout, owned by this list and freed with it.
    struct Blocks {
        layout: Layout,
        free: Vec<NonNull<u8>>,
    }

    impl Blocks {
        fn new(layout: Layout) -> Self {
            Self {
                layout,
                free: Vec::new(),
            }
        }

        fn is_full(&self) -> bool {
            self.free.len() * self.layout.size() >= BYTES_PER_LAYOUT
        }
    }

    impl Drop for Blocks {
        fn drop(&mut self) {
            for block in &self.free {
                // SAFETY: allocated with `layout`, owned by this list alone.
                unsafe { alloc::dealloc(block.as_ptr(), self.layout) };
            }
        }
    }

    /// One thread's lists, by layout.
    #[derive(Default)]
    struct Spares(Vec<Blocks>);

    impl Spares {
        /// The list for `layout`, taking over an empty one if all
        /// [`LAYOUTS`] are in use; `None` if all hold blocks.
        fn list(&mut self, layout: Layout) -> Option<&mut Blocks> {
            let index = match self.0.iter().position(|b| b.layout == layout) {
                Some(index) => index,
                None if self.0.len() < LAYOUTS => {
                    self.0.push(Blocks::new(layout));
                    self.0.len() - 1
                }
                None => {
                    let index = self.0.iter().position(|b| b.free.is_empty())?;
                    self.0[index] = Blocks::new(layout);
                    index
                }
            };
            Some(&mut self.0[index])
        }
    }

    std::thread_local! {
        static SPARES: RefCell<Spares> = RefCell::default();
    }

    /// `Box::into_raw(Box::new(value))`, in a spare block if this thread
    /// has one of `T`'s layout.
    pub(crate) fn boxed<T>(value: T) -> *mut T {
        let layout = Layout::new::<T>();
        let spare = SPARES
            .try_with(|spares| {
                let mut spares = spares.borrow_mut();
                spares.list(layout)?.free.pop()
            })
            .ok()
            .flatten();
        match spare {
            Some(block) => {
                let ptr = block.as_ptr().cast::<T>();
                // SAFETY: a block of `T`'s layout, owned by nothing else.
                unsafe { ptr.write(value) };
                ptr
            }
            None => Box::into_raw(Box::new(value)),
        }
    }

    /// Drops the `T` at `ptr`, then keeps its block for this thread's next
    /// [`boxed`] of the same layout, or frees it if the list is full.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`boxed`] or `Box::into_raw` and nothing uses it.
    pub(crate) unsafe fn free<T>(ptr: *mut T) {
        let layout = Layout::new::<T>();
        // SAFETY: by the caller's contract. The value is dropped before the
        // list is borrowed: its `Drop` may free entries too.
        unsafe { ptr::drop_in_place(ptr) };
        let Some(block) = NonNull::new(ptr.cast::<u8>()).filter(|_| layout.size() > 0) else {
            return;
        };
        let kept = SPARES
            .try_with(|spares| {
                let mut spares = spares.borrow_mut();
                let list = spares.list(layout)?;
                (!list.is_full()).then(|| list.free.push(block))
            })
            .ok()
            .flatten();
        if kept.is_none() {
            // SAFETY: allocated with `layout` (as `Box` allocates), now unused.
            unsafe { alloc::dealloc(block.as_ptr(), layout) };
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_freed_block_is_reused_for_the_same_layout_only() {
            // On a new thread, whose list starts empty.
            std::thread::spawn(reused_for_the_same_layout_only)
                .join()
                .unwrap();
        }

        fn reused_for_the_same_layout_only() {
            let first = boxed([1u64; 4]);
            // SAFETY: from `boxed`, unused after.
            unsafe { free(first) };
            let other = boxed(7u32);
            assert_ne!(other.cast::<u8>(), first.cast::<u8>());
            let second = boxed([2u64; 4]);
            assert_eq!(second, first, "the freed block of the same layout");
            // SAFETY: from `boxed`; blocks have the layout `Box` uses.
            unsafe {
                assert_eq!(*second, [2; 4]);
                drop(Box::from_raw(second));
                free(other);
            }
        }

        #[test]
        fn a_thread_keeps_at_most_its_budget_and_drops_every_value() {
            std::thread::spawn(keeps_at_most_its_budget).join().unwrap();
        }

        fn keeps_at_most_its_budget() {
            use std::rc::Rc;
            let value = Rc::new(());
            let count = BYTES_PER_LAYOUT / size_of::<(Rc<()>, u64)>() + 10;
            let blocks: Vec<_> = (0..count)
                .map(|i| boxed((value.clone(), i as u64)))
                .collect();
            assert_eq!(Rc::strong_count(&value), count + 1);
            for block in &blocks {
                // SAFETY: from `boxed`, each freed once.
                unsafe { free(*block) };
            }
            assert_eq!(Rc::strong_count(&value), 1, "free drops the value");
            let kept = SPARES.with(|s| {
                let mut s = s.borrow_mut();
                s.list(Layout::new::<(Rc<()>, u64)>()).unwrap().free.len()
            });
            assert_eq!(kept * size_of::<(Rc<()>, u64)>(), BYTES_PER_LAYOUT);
        }
    }
}

/// Under the model checkers, plain boxes: the checkers test the maps'
/// publication and locking, not this list.
#[cfg(any(racefree_loom, racefree_shuttle))]
mod imp {
    pub(crate) fn boxed<T>(value: T) -> *mut T {
        Box::into_raw(Box::new(value))
    }
}

pub(crate) use imp::*;
