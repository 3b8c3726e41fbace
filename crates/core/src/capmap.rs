//! Keyed state under a count cap and a share of the memory budget: at either limit
//! the oldest entry gives way, found at the front of an insertion queue, so admitting a
//! key never scans the table. Entries are charged a base size, and callers whose
//! entries grow say so (`resize`), so a large entry costs what it holds.
use crate::memory::{MemoryBudget, MemoryKind};
use foldhash::fast::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

#[derive(Debug)]
pub struct CapMap<K: Hash + Eq + Copy, V> {
    // Seeded per process, as the flow table's: the keys are addresses the traffic chooses.
    map: HashMap<K, (V, u32), RandomState>,
    /// Keys in the order they were admitted; a key removed by `retain` stays until it
    /// reaches the front (or a compaction).
    order: VecDeque<K>,
    max: usize,
    memory: MemoryBudget,
    kind: MemoryKind,
    /// What an entry costs before it grows: key, value, the table's overhead.
    base: u32,
    /// Live entries that gave way to newer ones.
    pub dropped: u64,
}

impl<K: Hash + Eq + Copy, V> CapMap<K, V> {
    /// At most `max` entries of at least `base` bytes, charged to `kind` of `memory`.
    pub fn new(max: usize, memory: MemoryBudget, kind: MemoryKind, base: usize) -> Self {
        let base = u32::try_from(base).unwrap_or(u32::MAX);
        CapMap { map: HashMap::default(), order: VecDeque::new(), max: max.max(1), memory, kind, base, dropped: 0 }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|(v, _)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }

    /// The entry of `k`, admitted (and charged) with `make` if new.
    pub fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&k) {
            self.admit(u64::from(self.base));
            self.order.push_back(k);
        }
        &mut self.map.entry(k).or_insert_with(|| (make(), self.base)).0
    }

    pub fn insert(&mut self, k: K, v: V) {
        if let Some((slot, _)) = self.map.get_mut(&k) {
            *slot = v;
            return;
        }
        self.admit(u64::from(self.base));
        self.order.push_back(k);
        self.map.insert(k, (v, self.base));
    }

    /// The entry of `k` now takes `bytes` (at least the base): the difference is
    /// charged, and older entries give way if that spends the share.
    pub fn resize(&mut self, k: &K, bytes: usize) {
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX).max(self.base);
        let Some((_, size)) = self.map.get_mut(k) else { return };
        let old = std::mem::replace(size, bytes);
        if bytes < old {
            self.memory.release(self.kind, u64::from(old - bytes));
            return;
        }
        let grow = u64::from(bytes - old);
        if !self.memory.try_charge(self.kind, grow) {
            self.memory.charge(self.kind, grow);
            self.shed_while_over(k);
        }
    }

    /// Room for one more of `bytes`: the oldest entries give way at the cap or while
    /// the share is spent; the new one is charged either way.
    fn admit(&mut self, bytes: u64) {
        if self.map.len() < self.max && self.memory.try_charge(self.kind, bytes) {
            return;
        }
        if self.map.len() >= self.max {
            self.evict_oldest(None);
        }
        self.memory.charge(self.kind, bytes);
        while self.memory.over(self.kind) && self.evict_oldest(None) {}
    }

    fn shed_while_over(&mut self, keep: &K) {
        while self.memory.over(self.kind) && self.evict_oldest(Some(keep)) {}
    }

    /// The oldest live entry (other than `keep`) goes; false when none is left.
    fn evict_oldest(&mut self, keep: Option<&K>) -> bool {
        let mut kept_back = None;
        let mut evicted = false;
        while let Some(old) = self.order.pop_front() {
            if keep == Some(&old) {
                kept_back = Some(old);
                continue;
            }
            if let Some((_, size)) = self.map.remove(&old) {
                self.memory.release(self.kind, u64::from(size));
                self.memory.gave_way(self.kind, 1);
                self.dropped += 1;
                evicted = true;
                break;
            }
        }
        if let Some(k) = kept_back {
            self.order.push_front(k);
        }
        evicted
    }

    /// Keep the entries `keep` says (time passing: ended windows go). Runs on the
    /// clock, not per packet; the queue is rebuilt once it holds twice the entries.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut freed = 0u64;
        self.map.retain(|k, (v, size)| {
            let stay = keep(k, v);
            if !stay {
                freed += u64::from(*size);
            }
            stay
        });
        self.memory.release(self.kind, freed);
        if self.order.len() > 2 * self.map.len() + 1024 {
            let mut seen: HashSet<K, RandomState> = HashSet::with_capacity_and_hasher(self.map.len(), RandomState::default());
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k) && seen.insert(*k));
        }
    }
}

impl<K: Hash + Eq + Copy, V> Drop for CapMap<K, V> {
    fn drop(&mut self) {
        let held: u64 = self.map.values().map(|(_, size)| u64::from(*size)).sum();
        self.memory.release(self.kind, held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: usize = 96;

    #[test]
    fn the_oldest_gives_way_at_the_cap_and_the_budget_is_charged_and_released() {
        let memory = MemoryBudget::new(1 << 30);
        let mut a: CapMap<u32, u32> = CapMap::new(3, memory.clone(), MemoryKind::Detection, ENTRY);
        for k in 0..3 {
            a.insert(k, k);
        }
        *a.get_or_insert_with(0, || 99) += 1; // an update keeps its place
        a.insert(3, 3);
        assert!(a.get(&0).is_none() && a.get(&1).is_some() && a.get(&3).is_some());
        assert_eq!((a.len(), a.dropped), (3, 1));
        assert_eq!(memory.used(MemoryKind::Detection), 3 * ENTRY as u64);
        a.retain(|k, _| *k != 2);
        assert_eq!(memory.used(MemoryKind::Detection), 2 * ENTRY as u64);
        a.insert(4, 4); // room again: nothing gives way
        assert_eq!(a.dropped, 1);
        drop(a);
        assert_eq!(memory.used(MemoryKind::Detection), 0);
    }

    #[test]
    fn a_spent_share_makes_the_oldest_give_way_below_the_cap() {
        // 64 MiB: the detection share (a tenth) holds 6.4 MiB of entries.
        let memory = MemoryBudget::new(64 << 20);
        let room = (memory.limit(MemoryKind::Detection) / ENTRY as u64) as u32;
        let mut a: CapMap<u32, ()> = CapMap::new(usize::MAX, memory.clone(), MemoryKind::Detection, ENTRY);
        for k in 0..room + 10 {
            a.insert(k, ());
        }
        assert_eq!(a.len(), room as usize);
        assert_eq!(a.dropped, 10);
        assert!(a.get(&9).is_none() && a.get(&10).is_some());
        assert!(memory.used(MemoryKind::Detection) <= memory.limit(MemoryKind::Detection));
    }

    #[test]
    fn an_entry_that_grows_is_charged_and_older_ones_make_room() {
        let memory = MemoryBudget::new(64 << 20);
        let limit = memory.limit(MemoryKind::Detection) as usize;
        let mut a: CapMap<u32, ()> = CapMap::new(usize::MAX, memory.clone(), MemoryKind::Detection, ENTRY);
        for k in 0..10 {
            a.insert(k, ());
        }
        // Entry 9 grows to nearly the whole share: the oldest go, 9 stays.
        a.resize(&9, limit - ENTRY);
        assert!(a.get(&9).is_some());
        assert!(memory.used(MemoryKind::Detection) <= limit as u64);
        assert!(a.dropped >= 1 && a.get(&0).is_none());
        a.resize(&9, ENTRY);
        assert_eq!(memory.used(MemoryKind::Detection), (a.len() * ENTRY) as u64);
    }
}
