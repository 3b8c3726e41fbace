//! Reading a policy file: YAML into the spec, then every check a reviewer would make
//! (unique zone names, networks that parse and do not overlap, conduits between known
//! zones, known protocols and classes), each error with its line and field.
use crate::error::{PolicyError, PolicyErrors};
use crate::net::Network;
use crate::policy::{Conduit, Initiator, Level, Policy, Zone, ZoneId};
use crate::protocols::Service;
use otsentry_core::FunctionClass;
use serde::Deserialize;
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

/// Where the items of the top-level lists and their keys are written.
struct Lines<'t>(Vec<&'t str>);

impl<'t> Lines<'t> {
    /// 1-based line of `key` in item `index` of the top-level list `list`; of the item,
    /// or of the list, when the key is not written.
    fn find(&self, list: &str, index: usize, key: Option<&str>) -> usize {
        let Some(start) = self.0.iter().position(|l| l.trim_end() == format!("{list}:")) else { return 0 };
        let mut items = Vec::new();
        let mut end = self.0.len();
        for (n, l) in self.0.iter().enumerate().skip(start + 1) {
            let body = l.trim_start();
            if !l.starts_with([' ', '-']) && !body.is_empty() && !body.starts_with('#') {
                end = n;
                break;
            }
            if body.starts_with("- ") && items.first().is_none_or(|&(_, indent)| l.len() - body.len() == indent) {
                items.push((n, l.len() - body.len()));
            }
        }
        let Some(&(from, _)) = items.get(index) else { return start + 1 };
        let to = items.get(index + 1).map_or(end, |&(n, _)| n);
        let Some(key) = key else { return from + 1 };
        (from..to)
            .find(|&n| self.0.get(n).is_some_and(|l| l.trim_start().trim_start_matches("- ").starts_with(&format!("{key}:"))))
            .map_or(from + 1, |n| n + 1)
    }
}

/// Reads and checks the policy at `path`.
pub fn load(path: &Path) -> Result<Policy, PolicyErrors> {
    let fail = |message: String| PolicyErrors(vec![PolicyError { file: path.to_path_buf(), line: 0, field: None, message }]);
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    parse(path, &text)
}

/// Checks policy `text` (named `path` in errors).
pub fn parse(path: &Path, text: &str) -> Result<Policy, PolicyErrors> {
    let spec: Spec = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line());
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        PolicyErrors(vec![PolicyError { file: path.to_path_buf(), line, field: None, message }])
    })?;
    let lines = Lines(text.lines().collect());
    let mut errors = Vec::new();
    let mut err = |list: &str, index: usize, key: &str, message: String| {
        errors.push(PolicyError {
            file: path.to_path_buf(),
            line: lines.find(list, index, Some(key)),
            field: Some(format!("{list}[{index}].{key}")),
            message,
        });
    };
    let mut zones: Vec<Zone> = Vec::new();
    for (i, z) in spec.zones.iter().enumerate() {
        if z.name.trim().is_empty() {
            err("zones", i, "name", "a zone needs a name".into());
        } else if zones.iter().any(|o| o.name == z.name) {
            err("zones", i, "name", format!("zone {:?} is defined twice", z.name));
        }
        let level = match &z.level {
            serde_yaml_ng::Value::Number(n) if n.as_u64().is_some_and(|n| n <= 5) => Some(Level::Purdue(n.as_u64().unwrap_or(0) as u8)),
            serde_yaml_ng::Value::String(s) if s.eq_ignore_ascii_case("dmz") => Some(Level::Dmz),
            other => {
                err("zones", i, "level", format!("{other:?}: a Purdue level 0-5 or dmz"));
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
        for other in &zones {
            let vlans_meet = zone.vlans.is_empty() || other.vlans.is_empty() || zone.vlans.iter().any(|v| other.vlans.contains(v));
            if let Some((a, b)) = zone.networks.iter().flat_map(|a| other.networks.iter().map(move |b| (a, b))).find(|(a, b)| a.overlaps(b))
            {
                if vlans_meet {
                    err("zones", i, "networks", format!("{a} overlaps {b} of zone {:?}: an address must belong to one zone", other.name));
                }
            }
        }
        zones.push(zone);
    }
    let unknown_name = spec.unknown.clone().unwrap_or_else(|| "unknown".into());
    let clash = zones.iter().any(|z| z.name == unknown_name).then(|| PolicyError {
        file: path.to_path_buf(),
        line: lines.0.iter().position(|l| l.starts_with("unknown:")).map_or(0, |n| n + 1),
        field: Some("unknown".into()),
        message: format!("{unknown_name:?} names the zone of addresses in no zone; it cannot also be a zone with networks"),
    });
    let unknown = ZoneId::try_from(zones.len()).unwrap_or(ZoneId::MAX);
    zones.push(Zone { name: unknown_name, level: None, networks: Vec::new(), vlans: Vec::new() });
    let id_of = |name: &str| zones.iter().position(|z| z.name == name).and_then(|i| ZoneId::try_from(i).ok());
    let names: Vec<String> = zones.iter().map(|z| z.name.clone()).collect();
    let mut conduits = Vec::new();
    for (i, c) in spec.conduits.iter().enumerate() {
        let mut zone = |key: &str, name: &str| {
            let id = id_of(name);
            if id.is_none() {
                err("conduits", i, key, format!("{name:?} is not a zone (zones: {})", names.join(", ")));
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
            match Service::parse(p) {
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
                        err("conduits", i, "functions", format!("{n:?} is not a function class ({})", all.join(", ")));
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
        let p = parse(Path::new("p.yaml"), GOOD).unwrap();
        assert_eq!(p.zones.len(), 3);
        assert_eq!(p.zone(p.unknown).name, "unknown");
        assert_eq!(p.conduits[0].initiator, Initiator::Either);
        assert_eq!(p.conduits[0].line, 11);
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("p.yaml"), text).unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn each_mistake_names_its_line_and_field() {
        let e = errors(&GOOD.replace("to: cell", "to: cel"));
        assert_eq!(e, vec!["p.yaml:12: conduits[0].to: \"cel\" is not a zone (zones: enterprise, cell, unknown)"]);
        let e = errors(&GOOD.replace("[read]", "[read, delete]"));
        assert!(e[0].starts_with("p.yaml:14: conduits[0].functions: \"delete\" is not a function class"), "{e:?}");
        let e = errors(&GOOD.replace("https]", "gopher]"));
        assert!(e[0].starts_with("p.yaml:13: conduits[0].protocols: \"gopher\" is not a protocol"), "{e:?}");
        let e = errors(&GOOD.replace("level: 1", "level: 7"));
        assert!(e[0].starts_with("p.yaml:6: zones[1].level:"), "{e:?}");
        let e = errors(&GOOD.replace("10.1.0.0/16", "10.4.1.0/24").replace("    vlans: [100]\n", ""));
        assert!(e[0].starts_with("p.yaml:7: zones[1].networks: 10.4.1.0/24 overlaps 10.4.0.0/16 of zone \"enterprise\""), "{e:?}");
        let e = errors(&GOOD.replace("either", "both"));
        assert!(e[0].starts_with("p.yaml:15: conduits[0].initiator:"), "{e:?}");
        let e = errors(&GOOD.replace("  - name: cell", "  - name: enterprise"));
        assert!(e[0].contains("zones[1].name: zone \"enterprise\" is defined twice"), "{e:?}");
        let e = errors(&GOOD.replace("    initiator: either\n", "    initator: either\n"));
        assert!(e[0].starts_with("p.yaml:15: conduits[0]: unknown field `initator`"), "{e:?}");
    }

    #[test]
    fn zones_on_different_vlans_may_share_networks() {
        let text =
            GOOD.replace("10.1.0.0/16", "10.4.0.0/16").replace("networks: [10.4.0.0/16]", "networks: [10.4.0.0/16]\n    vlans: [200]");
        assert!(parse(Path::new("p.yaml"), &text).is_ok());
    }
}
