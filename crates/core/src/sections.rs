//! The summary's `protocols` object: one section per registered protocol, laid out by
//! its crate ([`SectionLayout`]), so core names no protocol's counters and the JSON keys
//! of each section stay exactly as its crate declares them.
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::collections::BTreeMap;

/// Counts keyed by a decimal code (`"3"`) or a dotted pair (`"4.1"`).
pub type CodeCounts = BTreeMap<String, u64>;

/// The names EVE gives the codes of a [`CodeCounts`], under the same keys.
pub type CodeNames = BTreeMap<String, String>;

/// What one counter of a section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CounterKind {
    /// A number.
    Count,
    /// Counts by code (`"3"`, `"4.1"`).
    Codes,
    /// The names of the keys of the `Codes` counter it names.
    Names(&'static str),
}

/// A protocol's section of the summary: its key and counters, in the order the JSON
/// lists them.
#[derive(Debug, PartialEq, Eq)]
pub struct SectionLayout {
    pub name: &'static str,
    pub counters: &'static [(&'static str, CounterKind)],
    /// The counter periodic stats report as the protocol's PDUs.
    pub headline: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Counter {
    Count(u64),
    Codes(CodeCounts),
    Names(CodeNames),
}

impl Serialize for Counter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Counter::Count(n) => n.serialize(s),
            Counter::Codes(c) => c.serialize(s),
            Counter::Names(c) => c.serialize(s),
        }
    }
}

/// One protocol's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    layout: &'static SectionLayout,
    values: Vec<Counter>,
}

impl Section {
    pub fn new(layout: &'static SectionLayout) -> Section {
        let values = layout
            .counters
            .iter()
            .map(|(_, kind)| match kind {
                CounterKind::Count => Counter::Count(0),
                CounterKind::Codes => Counter::Codes(CodeCounts::new()),
                CounterKind::Names(_) => Counter::Names(CodeNames::new()),
            })
            .collect();
        Section { layout, values }
    }

    pub fn name(&self) -> &'static str {
        self.layout.name
    }

    pub fn layout(&self) -> &'static SectionLayout {
        self.layout
    }

    /// The counter periodic stats report as the protocol's PDUs.
    pub fn headline(&self) -> &'static str {
        self.layout.headline
    }

    fn slot(&mut self, counter: &str) -> Option<&mut Counter> {
        let i = self.layout.counters.iter().position(|(n, _)| *n == counter)?;
        self.values.get_mut(i)
    }

    fn get(&self, counter: &str) -> Option<&Counter> {
        let i = self.layout.counters.iter().position(|(n, _)| *n == counter)?;
        self.values.get(i)
    }

    /// Adds `n` to the number `counter` (a counter the layout does not declare as a
    /// number is left alone: a layout and its crate's code are tested together).
    pub fn add(&mut self, counter: &str, n: u64) {
        if let Some(Counter::Count(c)) = self.slot(counter) {
            *c += n;
        }
    }

    pub fn count(&self, counter: &str) -> u64 {
        match self.get(counter) {
            Some(Counter::Count(n)) => *n,
            _ => 0,
        }
    }

    /// The counts by code `counter` holds.
    pub fn codes(&self, counter: &str) -> Option<&CodeCounts> {
        match self.get(counter)? {
            Counter::Codes(c) => Some(c),
            _ => None,
        }
    }

    pub fn codes_mut(&mut self, counter: &str) -> Option<&mut CodeCounts> {
        match self.slot(counter)? {
            Counter::Codes(c) => Some(c),
            _ => None,
        }
    }

    /// The code names `counter` holds.
    pub fn names(&self, counter: &str) -> Option<&CodeNames> {
        match self.get(counter)? {
            Counter::Names(c) => Some(c),
            _ => None,
        }
    }

    /// The `Names` counter that names the keys of `codes`, if the layout has one.
    pub fn names_of(&self, codes: &str) -> Option<&'static str> {
        self.layout.counters.iter().find(|(_, kind)| matches!(kind, CounterKind::Names(of) if *of == codes)).map(|(n, _)| *n)
    }

    /// Merges a flow's `tally` into the counter `codes` (and starts it again).
    pub fn drain<K: Copy + PartialEq + std::fmt::Display>(&mut self, codes: &str, tally: &mut Tally<K>) {
        if let Some(c) = self.codes_mut(codes) {
            tally.drain_counts(c);
        }
    }

    /// Merges a flow's `tally` into the counter `codes`, naming each new key in the
    /// counter that names its keys (and starts the tally again).
    pub fn drain_named<K: Copy + PartialEq + std::fmt::Display, N: std::fmt::Display>(
        &mut self,
        codes: &str,
        tally: &mut Tally<K>,
        name: impl Fn(K) -> N,
    ) {
        let counters = self.layout.counters;
        let position = |want: &str| counters.iter().position(|(n, _)| *n == want);
        let (Some(ci), Some(ni)) = (position(codes), self.names_of(codes).and_then(position)) else {
            return self.drain(codes, tally);
        };
        let (lo, hi) = (ci.min(ni), ci.max(ni));
        let (head, tail) = self.values.split_at_mut(hi);
        let (Some(low), Some(high)) = (head.get_mut(lo), tail.first_mut()) else { return };
        let (c, n) = if ci < ni { (low, high) } else { (high, low) };
        if let (Counter::Codes(c), Counter::Names(n)) = (c, n) {
            tally.drain_into(c, n, name);
        }
    }

    /// Every counter: numbers summed, codes summed, names joined.
    pub fn merge(&mut self, other: &Section) {
        for (mine, theirs) in self.values.iter_mut().zip(&other.values) {
            match (mine, theirs) {
                (Counter::Count(a), Counter::Count(b)) => *a += b,
                (Counter::Codes(a), Counter::Codes(b)) => {
                    for (k, n) in b {
                        *a.entry(k.clone()).or_default() += n;
                    }
                }
                (Counter::Names(a), Counter::Names(b)) => {
                    for (k, n) in b {
                        a.entry(k.clone()).or_insert_with(|| n.clone());
                    }
                }
                _ => {}
            }
        }
    }
}

impl Serialize for Section {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.values.len()))?;
        for ((name, _), value) in self.layout.counters.iter().zip(&self.values) {
            m.serialize_entry(name, value)?;
        }
        m.end()
    }
}

/// The summary's `protocols`: a section per registered protocol, in registration order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtocolCounts {
    sections: Vec<Section>,
}

impl ProtocolCounts {
    /// Sections at zero for `layouts`, so their keys are present before any traffic.
    pub fn of(layouts: impl IntoIterator<Item = &'static SectionLayout>) -> ProtocolCounts {
        ProtocolCounts { sections: layouts.into_iter().map(Section::new).collect() }
    }

    pub fn get(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name() == name)
    }

    /// The section of `layout`, added (at zero) if the run had none.
    #[allow(clippy::indexing_slicing)] // `i` is a position just found, or the one just pushed
    pub fn section(&mut self, layout: &'static SectionLayout) -> &mut Section {
        match self.sections.iter().position(|s| s.name() == layout.name) {
            Some(i) => &mut self.sections[i],
            None => {
                self.sections.push(Section::new(layout));
                let last = self.sections.len() - 1;
                &mut self.sections[last]
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter()
    }

    pub fn merge(&mut self, other: &ProtocolCounts) {
        for s in &other.sections {
            self.section(s.layout).merge(s);
        }
    }
}

impl Serialize for ProtocolCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.sections.len()))?;
        for section in &self.sections {
            m.serialize_entry(section.name(), section)?;
        }
        m.end()
    }
}

/// A flow's counts by code, kept in a short list and merged into the summary's
/// [`CodeCounts`] when the flow ends, so counting a PDU never allocates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally<K>(Vec<(K, u64)>);

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Tally(Vec::new())
    }
}

impl<K: Copy + PartialEq + std::fmt::Display> Tally<K> {
    pub fn add(&mut self, key: K) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.0.push((key, 1)),
        }
    }

    /// Merge into `counts` (keys written with `Display`) and start again.
    pub fn drain_counts(&mut self, counts: &mut CodeCounts) {
        for (key, n) in self.0.drain(..) {
            *counts.entry(key.to_string()).or_default() += n;
        }
    }

    /// Merge into `counts` (keys written with `Display`), naming each key in `names`,
    /// and start again.
    pub fn drain_into<N: std::fmt::Display>(&mut self, counts: &mut CodeCounts, names: &mut CodeNames, name: impl Fn(K) -> N) {
        for (key, n) in self.0.drain(..) {
            let code = key.to_string();
            if !names.contains_key(&code) {
                names.insert(code.clone(), name(key).to_string());
            }
            *counts.entry(code).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TOY: SectionLayout = SectionLayout {
        name: "toy",
        counters: &[("pdus", CounterKind::Count), ("functions", CounterKind::Codes), ("function_names", CounterKind::Names("functions"))],
        headline: "pdus",
    };

    #[test]
    fn a_section_keeps_its_layout_order_and_merges() {
        let mut a = ProtocolCounts::of([&TOY]);
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"toy":{"pdus":0,"functions":{},"function_names":{}}}"#);
        let s = a.section(&TOY);
        s.add("pdus", 2);
        s.add("functions", 9);
        let mut tally = Tally::default();
        tally.add(3u8);
        tally.add(3u8);
        s.drain_named("functions", &mut tally, |_| "read");
        assert_eq!(s.names_of("functions"), Some("function_names"));
        let mut b = ProtocolCounts::default();
        b.merge(&a);
        b.merge(&a);
        let t = b.get("toy").unwrap();
        assert_eq!((t.count("pdus"), t.codes("functions").unwrap()["3"]), (4, 4));
        assert_eq!(t.names("function_names").unwrap()["3"], "read");
        assert_eq!(t.count("functions"), 0, "a number is only added to a number");
        let mut again = Tally::default();
        again.add(3u8);
        b.section(&TOY).drain_named("pdus", &mut again, |_| "x");
        assert_eq!(b.get("toy").unwrap().count("pdus"), 4, "codes for a number are left out");
    }
}
