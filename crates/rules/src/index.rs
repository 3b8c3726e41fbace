//! Which rules an event meets: per event type and stage, a list per key value (the
//! function code) with the rules that constrain no key merged in, so checking an event
//! is one lookup and one walk over the rules that can match it.
use crate::rule::Rule;
use otsentry_core::{FieldId, Schema, Stage};
use std::collections::BTreeMap;

/// The rules one event may meet, and what every one of them needs: an event without it
/// meets none of them, which one lookup tells (the Modbus exception rules and the
/// transactions answered without one; the DNP3 indicator rules and the responses that
/// set no IIN bit).
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleList {
    pub(crate) gate: Option<Gate>,
    pub(crate) rules: Vec<u32>,
}

/// What every rule of a list needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// A value of this field.
    Field(FieldId),
    /// An element of one of these repeated groups (a bit per group): every rule has a
    /// condition on an element of one of them, so with all of them empty none can match
    /// (the DNP3 indicator rules and the control status rule share a list of responses).
    Groups(u32),
}

impl RuleList {
    fn new(rules: Vec<u32>, all: &[Rule]) -> RuleList {
        let rule = |n: &u32| all.get(*n as usize);
        let first = rules.first().and_then(rule);
        // A group all need first: the key field is a single condition every rule of a
        // keyed list has, and every event of that key has it.
        let group = first.and_then(|r| {
            r.clause
                .groups
                .iter()
                .map(|(g, _)| *g)
                .find(|g| rules.iter().all(|n| rule(n).is_some_and(|r| r.clause.groups.iter().any(|(h, _)| h == g))))
        });
        // Else one group of each rule's, if every rule has one: all empty, none matches.
        let any_group = || {
            let firsts: Option<Vec<u8>> = rules.iter().map(|n| rule(n).and_then(|r| r.clause.groups.first().map(|(g, _)| *g))).collect();
            firsts.filter(|g| !g.is_empty() && g.iter().all(|&g| g < 32)).map(|g| g.iter().fold(0u32, |m, &g| m | 1 << g))
        };
        let groups = group.filter(|&g| g < 32).map(|g| 1u32 << g).or_else(any_group);
        let field = first.and_then(|r| {
            r.clause
                .single
                .iter()
                .map(|c| c.field)
                .find(|f| rules.iter().all(|n| rule(n).is_some_and(|r| r.clause.single.iter().any(|c| c.field == *f))))
        });
        let gate = match (group, field) {
            (Some(_), _) | (None, None) => groups.map(Gate::Groups),
            // A field all need beats groups only some need.
            (None, Some(f)) => Some(Gate::Field(f)),
        };
        RuleList { gate: gate.or(field.map(Gate::Field)), rules }
    }
}

/// Rules by the value of one key field: below 256 (every Modbus, DNP3 and S7 function
/// code) by direct index, larger values (S7comm-plus functions) sorted.
#[derive(Clone, Debug, Default)]
struct KeyTable {
    small: Vec<RuleList>,
    large: Vec<(u64, RuleList)>,
}

/// The rules one stage of one event type meets.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lists {
    /// Per key field of the schema: keyed rules with the unkeyed ones merged in.
    keyed: Vec<KeyTable>,
    /// Rules that constrain no key: all an event without a key (or with a value no rule
    /// names) meets.
    any: RuleList,
}

impl Lists {
    pub(crate) fn get(&self, key: Option<(usize, u64)>) -> &RuleList {
        let Some((field, k)) = key else { return &self.any };
        let Some(t) = self.keyed.get(field) else { return &self.any };
        let found = if k < 256 {
            t.small.get(k as usize)
        } else {
            t.large.binary_search_by_key(&k, |(k, _)| *k).ok().and_then(|i| t.large.get(i)).map(|(_, r)| r)
        };
        found.unwrap_or(&self.any)
    }
}

/// Per event type: the lists for requests, transactions and messages.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    by_schema: Vec<(&'static Schema, [Lists; 3])>,
}

fn stage_slot(stage: Stage) -> usize {
    match stage {
        Stage::Request => 0,
        Stage::Transaction => 1,
        Stage::Message => 2,
    }
}

/// Whether a rule checked on arrival (class 0) or on the answer (class 1) meets a stage.
fn meets(stage_slot: usize, answered: bool) -> bool {
    match stage_slot {
        0 => !answered,
        1 => answered,
        _ => true,
    }
}

impl Index {
    pub(crate) fn lists(&self, schema: &'static Schema, stage: Stage) -> Option<&Lists> {
        let (_, lists) = self.by_schema.iter().find(|(s, _)| std::ptr::eq(*s, schema))?;
        lists.get(stage_slot(stage))
    }

    /// Indexes `rules` and drops each indexed rule's key condition, which the index has
    /// then already met.
    pub(crate) fn build(rules: &mut [Rule], schemas: &[&'static Schema]) -> Index {
        // Per rule: the key field it is indexed by and the values, if any.
        let mut keyed: Vec<Option<(usize, Vec<u64>)>> = Vec::with_capacity(rules.len());
        for rule in rules.iter_mut() {
            let found = rule.schema.keys.iter().enumerate().find_map(|(which, k)| {
                let at = rule.clause.single.iter().position(|c| c.field == *k)?;
                Some((which, at, rule.clause.single.get(at)?.test.keys()?))
            });
            keyed.push(found.map(|(which, at, values)| {
                let cond = rule.clause.single.remove(at);
                rule.key_field = Some(cond.field);
                (which, values)
            }));
        }
        let by_schema = schemas
            .iter()
            .map(|&schema| {
                let lists = [0, 1, 2].map(|slot| {
                    let mine = |n: &usize| std::ptr::eq(rules.get(*n).map_or(std::ptr::null(), |r| r.schema), schema);
                    let meets_slot = |n: &usize| rules.get(*n).is_some_and(|r| meets(slot, r.answered));
                    let any: Vec<u32> = (0..rules.len())
                        .filter(mine)
                        .filter(meets_slot)
                        .filter(|n| keyed.get(*n).is_some_and(Option::is_none))
                        .map(|n| n as u32)
                        .collect();
                    let tables = (0..schema.keys.len())
                        .map(|field| {
                            let mut by_value: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
                            for n in (0..rules.len()).filter(mine).filter(meets_slot) {
                                if let Some(Some((f, values))) = keyed.get(n) {
                                    if *f == field {
                                        values.iter().for_each(|v| by_value.entry(*v).or_default().push(n as u32));
                                    }
                                }
                            }
                            let merged = |mut list: Vec<u32>| {
                                list.extend_from_slice(&any);
                                list.sort_unstable();
                                RuleList::new(list, rules)
                            };
                            let unkeyed = RuleList::new(any.clone(), rules);
                            let mut t = KeyTable { small: vec![unkeyed; 256], large: Vec::new() };
                            for (v, list) in by_value {
                                match t.small.get_mut(v as usize) {
                                    Some(slot) if v < 256 => *slot = merged(list),
                                    _ => t.large.push((v, merged(list))),
                                }
                            }
                            t
                        })
                        .collect();
                    Lists { keyed: tables, any: RuleList::new(any, rules) }
                });
                (schema, lists)
            })
            .collect();
        Index { by_schema }
    }
}
