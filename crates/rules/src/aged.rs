//! Tracking state under a cap and the run's memory budget: at the cap (or when the
//! budget's detection share is spent) the oldest entry gives way, found at the front of
//! an insertion queue, so admitting a key never scans the table.
use foldhash::fast::RandomState;
use otsentry_core::{MemoryBudget, MemoryKind};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// What one entry is charged: its key and value, and the hash table's overhead.
pub(crate) const ENTRY_BYTES: u64 = 96;

#[derive(Debug)]
pub(crate) struct Aged<K: Hash + Eq + Copy, V> {
    map: HashMap<K, V, RandomState>,
    /// Keys in the order they were admitted; a key removed by `retain` stays until it
    /// reaches the front (or a compaction).
    order: VecDeque<K>,
    max: usize,
    memory: MemoryBudget,
    /// Live entries that gave way to newer ones.
    pub(crate) dropped: u64,
}

impl<K: Hash + Eq + Copy, V> Aged<K, V> {
    pub(crate) fn new(max: usize, memory: MemoryBudget) -> Self {
        Aged { map: HashMap::default(), order: VecDeque::new(), max: max.max(1), memory, dropped: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    /// The entry of `k`, admitted (and charged) with `make` if new.
    pub(crate) fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&k) {
            self.admit();
            self.order.push_back(k);
        }
        self.map.entry(k).or_insert_with(make)
    }

    pub(crate) fn insert(&mut self, k: K, v: V) {
        if let Some(slot) = self.map.get_mut(&k) {
            *slot = v;
            return;
        }
        self.admit();
        self.order.push_back(k);
        self.map.insert(k, v);
    }

    /// Room for one more: the oldest entry gives way at the cap or when the budget's
    /// detection share is spent; the new one is charged either way.
    fn admit(&mut self) {
        if self.map.len() < self.max && self.memory.try_charge(MemoryKind::Detection, ENTRY_BYTES) {
            return;
        }
        while let Some(old) = self.order.pop_front() {
            if self.map.remove(&old).is_some() {
                self.memory.release(MemoryKind::Detection, ENTRY_BYTES);
                self.memory.gave_way(MemoryKind::Detection, 1);
                self.dropped += 1;
                break;
            }
        }
        self.memory.charge(MemoryKind::Detection, ENTRY_BYTES);
    }

    /// Keep the entries `keep` says (time passing: ended windows go). Runs on the
    /// clock, not per packet; the queue is rebuilt once it holds twice the entries.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let before = self.map.len();
        self.map.retain(|k, v| keep(k, v));
        self.memory.release(MemoryKind::Detection, (before - self.map.len()) as u64 * ENTRY_BYTES);
        if self.order.len() > 2 * self.map.len() + 1024 {
            let mut seen = HashSet::with_capacity(self.map.len());
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k) && seen.insert(*k));
        }
    }
}

impl<K: Hash + Eq + Copy, V> Drop for Aged<K, V> {
    fn drop(&mut self) {
        self.memory.release(MemoryKind::Detection, self.map.len() as u64 * ENTRY_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_gives_way_at_the_cap_and_the_budget_is_charged_and_released() {
        let memory = MemoryBudget::new(1 << 30);
        let mut a: Aged<u32, u32> = Aged::new(3, memory.clone());
        for k in 0..3 {
            a.insert(k, k);
        }
        *a.get_or_insert_with(0, || 99) += 1; // an update keeps its place
        a.insert(3, 3);
        assert!(a.get(&0).is_none() && a.get(&1).is_some() && a.get(&3).is_some());
        assert_eq!((a.len(), a.dropped), (3, 1));
        assert_eq!(memory.used(MemoryKind::Detection), 3 * ENTRY_BYTES);
        a.retain(|k, _| *k != 2);
        assert_eq!(memory.used(MemoryKind::Detection), 2 * ENTRY_BYTES);
        a.insert(4, 4); // room again: nothing gives way
        assert_eq!(a.dropped, 1);
        drop(a);
        assert_eq!(memory.used(MemoryKind::Detection), 0);
    }

    #[test]
    fn a_spent_budget_makes_the_oldest_give_way_below_the_cap() {
        // 64 MiB: the detection share (a tenth) holds 6.4 MiB of entries.
        let memory = MemoryBudget::new(64 << 20);
        let room = (memory.limit(MemoryKind::Detection) / ENTRY_BYTES) as u32;
        let mut a: Aged<u32, ()> = Aged::new(usize::MAX, memory.clone());
        for k in 0..room + 10 {
            a.insert(k, ());
        }
        assert_eq!(a.len(), room as usize);
        assert_eq!(a.dropped, 10);
        assert!(a.get(&9).is_none() && a.get(&10).is_some());
        assert!(memory.used(MemoryKind::Detection) <= memory.limit(MemoryKind::Detection));
    }
}
