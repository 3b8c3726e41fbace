//! Long lists in records (a class poll's points, a read of 2,000 coils),
//! written straight from their iterators and cut at a cap (`--eve-max-items`) with a
//! count of what was left out.
use serde::{Serialize, Serializer};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Items a record's list keeps by default: a typical poll whole (a read of 125
/// registers, a poll of a few hundred points).
pub const DEFAULT_EVE_MAX_ITEMS: usize = 1024;

static EVE_MAX_ITEMS: AtomicUsize = AtomicUsize::new(DEFAULT_EVE_MAX_ITEMS);

/// Sets the cap for the whole process (an output setting, read by every record's
/// serialisation; at least 1).
pub fn set_eve_max_items(n: usize) {
    EVE_MAX_ITEMS.store(n.max(1), Ordering::Relaxed);
}

pub fn eve_max_items() -> usize {
    EVE_MAX_ITEMS.load(Ordering::Relaxed)
}

/// A list serialised from a cloneable iterator without collecting it, at most
/// [`eve_max_items`] long; after serialisation [`Capped::left_out`] says how many items
/// the cap dropped.
pub struct Capped<I> {
    items: I,
    left_out: Cell<usize>,
}

impl<I> Capped<I> {
    pub fn new(items: I) -> Self {
        Capped { items, left_out: Cell::new(0) }
    }

    /// Items beyond the cap, known once the list was serialised.
    pub fn left_out(&self) -> usize {
        self.left_out.get()
    }
}

impl<I> Serialize for Capped<I>
where
    I: Iterator + Clone,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut items = self.items.clone();
        let written = s.collect_seq(items.by_ref().take(eve_max_items()));
        self.left_out.set(items.count());
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_and_counted() {
        let short = Capped::new(0..3u8);
        assert_eq!(serde_json::to_string(&short).unwrap(), "[0,1,2]");
        assert_eq!(short.left_out(), 0);
        let long = Capped::new(0..(DEFAULT_EVE_MAX_ITEMS as u32 + 5));
        let v: Vec<u32> = serde_json::from_str(&serde_json::to_string(&long).unwrap()).unwrap();
        assert_eq!((v.len(), long.left_out()), (DEFAULT_EVE_MAX_ITEMS, 5));
    }
}
