//! Reading a policy file: YAML into the spec, then every check a reviewer would make
//! (unique zone names, networks that parse and do not overlap, conduits between known
//! zones, known protocols and classes), each error with its line and field.
use crate::error::{PolicyError, PolicyErrors};
use crate::net::Network;
use crate::policy::{Conduit, Initiator, Level, Policy, Zone, ZoneId};
use crate::protocols::Service;
use otsentry_core::FunctionClass;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    /// The zone of addresses in no zone (default `unknown`).
    #[serde(default)]
    unknown: Option<String>,
    zones: Vec<ZoneSpec>,
    #[serde(default)]
    conduits: Vec<ConduitSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneSpec {
    name: String,
    level: serde_yaml_ng::Value,
    networks: Vec<String>,
    #[serde(default)]
    vlans: Vec<u16>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConduitSpec {
    from: String,
    to: String,
    protocols: Vec<String>,
    #[serde(default)]
    functions: Option<Vec<String>>,
    #[serde(default)]
    initiator: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// Where the items of the top-level lists and their keys are written, indexed once
/// (a policy of thousands of conduits must not be rescanned per error or conduit).
struct Lines<'t> {
    lines: Vec<&'t str>,
    lists: Vec<List<'t>>,
}

/// A top-level list: its key, its own line, and each item's first line and end.
type List<'t> = (&'t str, usize, Vec<(usize, usize)>);

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let mut lists: Vec<List<'t>> = Vec::new();
        let mut indent = None;
        for (n, l) in lines.iter().enumerate() {
            let body = l.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if !l.starts_with([' ', '-']) {
                // A top-level key: a new list starts (or none, for a scalar key).
                if let Some((_, _, items)) = lists.last_mut() {
                    if let Some(last) = items.last_mut() {
                        last.1 = n;
                    }
                }
                let key = body.split(':').next().unwrap_or_default();
                lists.push((key, n, Vec::new()));
                indent = None;
                continue;
            }
            let at = l.len() - body.len();
            if body.starts_with("- ") && indent.is_none_or(|i| i == at) {
                indent = Some(at);
                if let Some((_, _, items)) = lists.last_mut() {
                    if let Some(last) = items.last_mut() {
                        last.1 = n;
                    }
                    items.push((n, lines.len()));
                }
            }
        }
        Lines { lines, lists }
    }

    /// 1-based column of `key` on 1-based `line` (its indentation when the key is not there).
    fn column(&self, line: usize, key: &str) -> usize {
        let Some(text) = line.checked_sub(1).and_then(|n| self.lines.get(n)) else { return 0 };
        text.find(&format!("{key}:")).map_or(text.len() - text.trim_start().len(), |c| c) + 1
    }

    /// 1-based line of `key` in item `index` of the top-level list `list`; of the item,
    /// or of the list, when the key is not written.
    fn find(&self, list: &str, index: usize, key: Option<&str>) -> usize {
        let Some((_, start, items)) = self.lists.iter().find(|(name, _, _)| *name == list) else { return 0 };
        let Some(&(from, to)) = items.get(index) else { return start + 1 };
        let Some(key) = key else { return from + 1 };
        (from..to)
            .find(|&n| {
                self.lines.get(n).is_some_and(|l| {
                    let body = l.trim_start().trim_start_matches("- ");
                    body.strip_prefix(key).is_some_and(|rest| rest.starts_with(':'))
                })
            })
            .map_or(from + 1, |n| n + 1)
    }
}

/// Networks of two zones that share addresses (and VLANs), as (later zone, its network,
/// the other network, the earlier zone): prefixes sorted by first address, each checked
/// against the prefixes still open around it, so thousands of zones check quickly.
fn overlaps(zones: &[Zone]) -> Vec<(usize, Network, Network, usize)> {
    let mut all: Vec<((bool, u128, u128), Network, usize)> =
        zones.iter().enumerate().flat_map(|(i, z)| z.networks.iter().map(move |n| (n.range(), *n, i))).collect();
    // By family and first address; the wider prefix first where two start together.
    all.sort_by_key(|a| (a.0 .0, a.0 .1, std::cmp::Reverse(a.0 .2)));
    let mut open: Vec<((bool, u128, u128), Network, usize)> = Vec::new();
    let mut found = Vec::new();
    for item in all {
        let ((v6, start, _), net, zone) = item;
        open.retain(|((ov6, _, end), _, _)| *ov6 == v6 && *end >= start);
        for &(_, other, other_zone) in &open {
            let (Some(a), Some(b)) = (zones.get(zone), zones.get(other_zone)) else { continue };
            let vlans_meet = a.vlans.is_empty() || b.vlans.is_empty() || a.vlans.iter().any(|v| b.vlans.contains(v));
            if other_zone != zone && vlans_meet {
                let (later, mine, theirs, earlier) =
                    if zone > other_zone { (zone, net, other, other_zone) } else { (other_zone, other, net, zone) };
                found.push((later, mine, theirs, earlier));
            }
        }
        open.push(item);
    }
    found.sort_by_key(|f| f.0);
    found
}

/// Reads and checks the policy at `path`; `protocols` are the registered ones, which
/// conduits may name.
pub fn load(path: &Path, protocols: &[otsentry_core::AppProto]) -> Result<Policy, PolicyErrors> {
    let fail = |message: String| PolicyErrors(vec![PolicyError { file: path.to_path_buf(), line: 0, column: 0, field: None, message }]);
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    parse(path, &text, protocols)
}

/// Checks policy `text` (named `path` in errors).
pub fn parse(path: &Path, text: &str, protocols: &[otsentry_core::AppProto]) -> Result<Policy, PolicyErrors> {
    let spec: Spec = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map_or(0, |l| otsentry_core::line_and_column(text, l.index()).0);
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        PolicyErrors(vec![PolicyError { file: path.to_path_buf(), line, column: 0, field: None, message }])
    })?;
    let lines = Lines::new(text);
    let mut errors = Vec::new();
    let mut err = |list: &str, index: usize, key: &str, message: String| {
        let line = lines.find(list, index, Some(key));
        errors.push(PolicyError {
            file: path.to_path_buf(),
            line,
            column: lines.column(line, key),
            field: Some(format!("{list}[{index}].{key}")),
            message,
        });
    };
    let mut zones: Vec<Zone> = Vec::new();
    // Zone ids by name: conduits name two zones each, and there may be thousands.
    let mut ids: HashMap<&str, ZoneId> = HashMap::new();
    for (i, z) in spec.zones.iter().enumerate() {
        if z.name.trim().is_empty() {
            err("zones", i, "name", "a zone needs a name".into());
        } else if ids.insert(&z.name, ZoneId::try_from(i).unwrap_or(ZoneId::MAX)).is_some() {
            err("zones", i, "name", format!("zone {:?} is defined twice", z.name));
        }
        let level = match &z.level {
            serde_yaml_ng::Value::Number(n) if n.as_u64().is_some_and(|n| n <= 5) => Some(Level::Purdue(n.as_u64().unwrap_or(0) as u8)),
            serde_yaml_ng::Value::String(s) if s.eq_ignore_ascii_case("dmz") => Some(Level::Dmz),
            other => {
                let shown = serde_yaml_ng::to_string(other).unwrap_or_default();
                err("zones", i, "level", format!("{} is not a Purdue level (0 to 5, or dmz)", shown.trim()));
                None
            }
        };
        let mut networks = Vec::new();
        for n in &z.networks {
            match Network::parse(n) {
                Ok(net) => networks.push(net),
                Err(e) => err("zones", i, "networks", e),
            }
        }
        if z.networks.is_empty() {
            err("zones", i, "networks", "a zone needs at least one network".into());
        }
        let zone = Zone { name: z.name.clone(), level, networks, vlans: z.vlans.clone() };
        zones.push(zone);
    }
    for (later, mine, other, earlier) in overlaps(&zones) {
        let name = zones.get(earlier).map_or("", |z| z.name.as_str());
        err("zones", later, "networks", format!("{mine} overlaps {other} of zone {name:?}: an address must belong to one zone"));
    }
    let unknown_name: &str = spec.unknown.as_deref().unwrap_or("unknown");
    let clash = zones.iter().any(|z| z.name == unknown_name).then(|| PolicyError {
        file: path.to_path_buf(),
        line: lines.lines.iter().position(|l| l.starts_with("unknown:")).map_or(0, |n| n + 1),
        column: 1,
        field: Some("unknown".into()),
        message: format!("{unknown_name:?} names the zone of addresses in no zone; it cannot also be a zone with networks"),
    });
    let unknown = ZoneId::try_from(zones.len()).unwrap_or(ZoneId::MAX);
    zones.push(Zone { name: unknown_name.to_string(), level: None, networks: Vec::new(), vlans: Vec::new() });
    ids.entry(unknown_name).or_insert(unknown);
    let id_of = |name: &str| ids.get(name).copied();
    let names: Vec<String> = zones.iter().map(|z| z.name.clone()).collect();
    let mut conduits = Vec::new();
    for (i, c) in spec.conduits.iter().enumerate() {
        let mut zone = |key: &str, name: &str| {
            let id = id_of(name);
            if id.is_none() {
                let hint = otsentry_core::nearest(name, names.iter().map(String::as_str))
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                err("conduits", i, key, format!("{name:?} is not a zone (zones: {}){hint}", names.join(", ")));
            }
            id
        };
        let (from, to) = (zone("from", &c.from), zone("to", &c.to));
        let mut services = Vec::new();
        let mut any = false;
        for p in &c.protocols {
            if p == "any" {
                any = true;
                continue;
            }
            match Service::parse(p, protocols) {
                Ok(s) => services.push(s),
                Err(e) => err("conduits", i, "protocols", e),
            }
        }
        if c.protocols.is_empty() {
            err("conduits", i, "protocols", "a conduit needs at least one protocol (or any)".into());
        }
        let classes = c.functions.as_ref().map(|names| {
            names
                .iter()
                .filter_map(|n| {
                    let class = FunctionClass::from_name(n.trim());
                    if class.is_none() {
                        let all: Vec<&str> = FunctionClass::ALL.iter().map(|c| c.as_str()).collect();
                        let hint =
                            otsentry_core::nearest(n, all.iter().copied()).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
                        err("conduits", i, "functions", format!("{n:?} is not a function class ({}){hint}", all.join(", ")));
                    }
                    class
                })
                .collect::<Vec<_>>()
        });
        let initiator = match c.initiator.as_deref().unwrap_or("from") {
            "from" => Initiator::From,
            "to" => Initiator::To,
            "either" => Initiator::Either,
            other => {
                err("conduits", i, "initiator", format!("{other:?}: from, to or either"));
                Initiator::From
            }
        };
        if let (Some(from), Some(to)) = (from, to) {
            let line = lines.find("conduits", i, None);
            conduits.push(Conduit { from, to, services: (!any).then_some(services), classes, initiator, line });
        }
    }
    errors.extend(clash);
    if errors.is_empty() {
        Ok(Policy::new(zones, unknown, conduits))
    } else {
        Err(PolicyErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
zones:
  - name: enterprise
    level: 4
    networks: [10.4.0.0/16]
  - name: cell
    level: 1
    networks:
      - 10.1.0.0/16
    vlans: [100]
conduits:
  - from: enterprise
    to: cell
    protocols: [modbus, https]
    functions: [read]
    initiator: either
";

    #[test]
    fn a_good_policy_compiles() {
        let p = parse(Path::new("p.yaml"), GOOD, &crate::protocols::tests::KNOWN).unwrap();
        assert_eq!(p.zones.len(), 3);
        assert_eq!(p.zone(p.unknown).name, "unknown");
        assert_eq!(p.conduits[0].initiator, Initiator::Either);
        assert_eq!(p.conduits[0].line, 11);
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("p.yaml"), text, &crate::protocols::tests::KNOWN).unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn each_mistake_names_its_line_and_field() {
        let e = errors(&GOOD.replace("to: cell", "to: cel"));
        assert_eq!(e, vec!["p.yaml:12:5: conduits[0].to: \"cel\" is not a zone (zones: enterprise, cell, unknown) (did you mean `cell`?)"]);
        let e = errors(&GOOD.replace("[read]", "[read, delete]"));
        assert!(e[0].starts_with("p.yaml:14:5: conduits[0].functions: \"delete\" is not a function class"), "{e:?}");
        let e = errors(&GOOD.replace("https]", "gopher]"));
        assert!(e[0].starts_with("p.yaml:13:5: conduits[0].protocols: \"gopher\" is not a protocol"), "{e:?}");
        let e = errors(&GOOD.replace("level: 1", "level: 7"));
        assert!(e[0].starts_with("p.yaml:6:5: zones[1].level:"), "{e:?}");
        let e = errors(&GOOD.replace("10.1.0.0/16", "10.4.1.0/24").replace("    vlans: [100]\n", ""));
        assert!(e[0].starts_with("p.yaml:7:5: zones[1].networks: 10.4.1.0/24 overlaps 10.4.0.0/16 of zone \"enterprise\""), "{e:?}");
        let e = errors(&GOOD.replace("either", "both"));
        assert!(e[0].starts_with("p.yaml:15:5: conduits[0].initiator:"), "{e:?}");
        let e = errors(&GOOD.replace("  - name: cell", "  - name: enterprise"));
        assert!(e[0].contains("zones[1].name: zone \"enterprise\" is defined twice"), "{e:?}");
        let e = errors(&GOOD.replace("    initiator: either\n", "    initator: either\n"));
        assert!(e[0].starts_with("p.yaml:15:1: conduits[0]: unknown field `initator`"), "{e:?}");
    }

    /// Five mistakes in one file: all five, in file order, each at its line.
    #[test]
    fn every_mistake_in_one_pass() {
        let bad = GOOD
            .replace("level: 1", "level: 7")
            .replace("10.1.0.0/16", "10.4.1.0/24")
            .replace("    vlans: [100]\n", "")
            .replace("to: cell", "to: cel")
            .replace("https]", "gopher]")
            .replace("[read]", "[read, delete]");
        let e = errors(&bad);
        let lines: Vec<&str> = e.iter().map(|e| e.split(':').nth(1).unwrap_or("")).collect();
        assert_eq!(lines, ["6", "7", "11", "12", "13"], "{e:#?}");
    }

    #[test]
    fn an_overlap_among_many_zones_is_found_and_named() {
        let mut text = String::from("zones:\n");
        for i in 0..500 {
            text += &format!("  - name: z{i}\n    level: 1\n    networks: [10.{}.{}.0/24]\n", i / 250, i % 250);
        }
        assert_eq!(parse(Path::new("p.yaml"), &text, &crate::protocols::tests::KNOWN).unwrap().zones.len(), 501);
        // Zone 400 also claims a host of zone 7's network.
        text = text.replace("networks: [10.1.150.0/24]", "networks: [10.1.150.0/24, 10.0.7.9]");
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("p.yaml:1204:5: zones[400].networks: 10.0.7.9/32 overlaps 10.0.7.0/24 of zone \"z7\""), "{e:?}");
    }

    /// Found by the property test below: YAML ends a line at a lone CR, an editor does not.
    #[test]
    fn a_lone_carriage_return_does_not_shift_the_line_named() {
        // The failing case as found: cut after 136 bytes, byte 83 (a newline) made a CR.
        let mut text = GOOD.as_bytes()[..136].to_vec();
        text[83] = b'\r';
        let text = String::from_utf8(text).unwrap();
        let e = parse(Path::new("p.yaml"), &text, &crate::protocols::tests::KNOWN).unwrap_err();
        assert!(e.0.iter().all(|one| (1..=text.lines().count() + 1).contains(&one.line)), "{e}");
    }

    proptest::proptest! {
        /// A policy cut short or with bytes overwritten: a policy or errors, each on a
        /// line of the file, never a panic.
        #[test]
        fn damaged_policies_fail_with_a_line_in_the_file(cut in 0..GOOD.len(), at in 0..GOOD.len(), byte in 0u8..128) {
            let mut text = GOOD.as_bytes()[..cut.max(1)].to_vec();
            if let Some(b) = text.get_mut(at) {
                *b = byte;
            }
            let text = String::from_utf8_lossy(&text).into_owned();
            let lines = text.lines().count().max(1);
            if let Err(e) = parse(Path::new("p.yaml"), &text, &crate::protocols::tests::KNOWN) {
                proptest::prop_assert!(!e.0.is_empty());
                for one in &e.0 {
                    proptest::prop_assert!(one.line <= lines + 1, "{one} in {lines} lines: {text:?}");
                }
            }
        }
    }

    #[test]
    fn zones_on_different_vlans_may_share_networks() {
        let text =
            GOOD.replace("10.1.0.0/16", "10.4.0.0/16").replace("networks: [10.4.0.0/16]", "networks: [10.4.0.0/16]\n    vlans: [200]");
        assert!(parse(Path::new("p.yaml"), &text, &crate::protocols::tests::KNOWN).is_ok());
    }
}
