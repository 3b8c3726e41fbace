//! Suricata's Modbus and DNP3 keywords, and their app-layer events, as our conditions.
//! Semantics follow Suricata 9: the `modbus` keyword's ranges as its detection code
//! reads them, DNP3 function and indicator keywords as unsigned integers with names.
use super::values::{ranges_value, ranges_where, suricata_uint};
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeSet;

/// Conditions a keyword adds: to `match`, and alternatives that silence the rule.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    pub(crate) matches: Vec<(String, Value)>,
    pub(crate) unless: Vec<Mapping>,
    /// Function codes the rule is limited to, intersected across keywords.
    pub(crate) functions: Option<BTreeSet<u64>>,
    pub(crate) notes: Vec<String>,
}

impl Conditions {
    fn limit_functions(&mut self, codes: impl IntoIterator<Item = u64>) {
        let codes: BTreeSet<u64> = codes.into_iter().collect();
        self.functions = Some(match self.functions.take() {
            Some(prev) => prev.intersection(&codes).copied().collect(),
            None => codes,
        });
    }
}

fn unless(pairs: &[(&str, Value)]) -> Mapping {
    pairs.iter().map(|(k, v)| (Value::from(*k), v.clone())).collect()
}

/// The `modbus` keyword's range: `n`, `<n`, `>n`, `a<>b`, as Suricata compares a single
/// value (the unit id, a written value) with it.
fn modbus_value_range(text: &str) -> Result<Vec<(u64, u64)>, String> {
    let t = text.trim();
    let num = |s: &str| s.trim().parse::<u64>().map_err(|_| format!("{s:?} is not a number"));
    let (lo, hi) = if let Some(n) = t.strip_prefix('<') {
        (0, num(n)?)
    } else if let Some(n) = t.strip_prefix('>') {
        (num(n)?, 65_535)
    } else if let Some((a, b)) = t.split_once("<>") {
        (num(a)?, num(b)?)
    } else {
        let n = num(t)?;
        return Ok(vec![(n, n)]);
    };
    // Suricata: from 0 means below the high end, to 65535 above the low end, else between.
    let r = if lo == 0 {
        (0, hi.saturating_sub(1))
    } else if hi == 65_535 {
        (lo + 1, 65_535)
    } else {
        (lo + 1, hi.saturating_sub(1))
    };
    if r.0 > r.1 || (t.strip_prefix('<').is_some() && hi == 0) {
        return Err(format!("{t:?} holds no value"));
    }
    Ok(vec![r])
}

/// Function codes with Suricata's access flags (READ, WRITE, and the table).
fn access_functions(access: &str, table: Option<&str>) -> Result<Vec<u64>, String> {
    // (code, reads, writes, table) as Suricata's Modbus parser classes them.
    const ACCESS: [(u64, bool, bool, &str); 10] = [
        (1, true, false, "coils"),
        (2, true, false, "discretes"),
        (3, true, false, "holding"),
        (4, true, false, "input"),
        (5, false, true, "coils"),
        (6, false, true, "holding"),
        (15, false, true, "coils"),
        (16, false, true, "holding"),
        (22, false, true, "holding"),
        (23, true, true, "holding"),
    ];
    let write = match access {
        "read" => false,
        "write" => true,
        other => return Err(format!("access {other:?} is not read or write")),
    };
    if write && matches!(table, Some("discretes" | "input")) {
        return Err(format!("{} access is read only", table.unwrap_or("")));
    }
    if let Some(t) = table {
        if !matches!(t, "coils" | "discretes" | "input" | "holding") {
            return Err(format!("{t:?} is not coils, discretes, input or holding"));
        }
    }
    Ok(ACCESS.iter().filter(|(_, r, w, tab)| if write { *w } else { *r } && table.is_none_or(|t| t == *tab)).map(|(c, ..)| *c).collect())
}

/// Suricata's function categories by code; diagnostics (8) and MEI (43) depend on their
/// sub-code: a reserved one makes the request reserved, others public assigned.
fn category_codes(word: &str) -> Result<(Vec<u64>, Value, Value), String> {
    let (negated, name) = match word.strip_prefix('!') {
        Some(n) => (true, n),
        None => (false, word),
    };
    // Which of public assigned, public unassigned, user defined, reserved.
    let wanted: [bool; 4] = match name {
        "assigned" => [true, false, false, false],
        "unassigned" => [false, true, false, false],
        "public" => [true, true, false, false],
        "user" => [false, false, true, false],
        "reserved" => [false, false, false, true],
        "all" => [true; 4],
        other => return Err(format!("function {other:?} is not a code or a category (assigned, unassigned, public, user, reserved, all)")),
    };
    let wanted = if negated { wanted.map(|w| !w) } else { wanted };
    let class = |code: u64| -> usize {
        match code {
            1..=24 | 43 => 0,
            41 | 42 | 90 | 91 | 125..=127 => 3,
            65..=72 | 100..=110 => 2,
            _ => 1,
        }
    };
    let mut codes: Vec<u64> = (1..=127).filter(|&c| wanted.get(class(c)).copied().unwrap_or(false)).collect();
    let [assigned, _, _, reserved] = wanted;
    // Diagnostics and MEI: in the set when either of their classes is wanted; the other
    // class's sub-codes then silence the rule.
    let reserved_sub = Value::Sequence(vec!["5-9".into(), ">=22".into()]);
    let known_sub = Value::Sequence(vec!["0-4".into(), "10-21".into()]);
    let (diag_unless, mei_unless) = match (assigned, reserved) {
        (true, false) => (reserved_sub, Value::from("!13-14")),
        (false, true) => (known_sub, Value::Sequence(vec![13.into(), 14.into()])),
        _ => (Value::Null, Value::Null),
    };
    for c in [8u64, 43] {
        if (assigned || reserved) && !codes.contains(&c) {
            codes.push(c);
        }
        if !assigned && !reserved {
            codes.retain(|&x| x != c);
        }
    }
    codes.sort_unstable();
    Ok((codes, diag_unless, mei_unless))
}

/// `modbus: function 1`, `function assigned`, `function 8, subfunction 4`,
/// `access read coils, address 0<>2, value >5`, `unit 10[, function ...|access ...]`.
pub(crate) fn modbus(text: &str, out: &mut Conditions) -> Result<(), String> {
    let t = text.trim().trim_matches('"').trim();
    if let Some(rest) = t.strip_prefix("unit") {
        let (range, tail) = match rest.trim().split_once(',') {
            Some((r, tail)) => (r.trim(), Some(tail.trim())),
            None => (rest.trim(), None),
        };
        out.matches.push(("modbus.unit_id".into(), ranges_value(&modbus_value_range(range)?)));
        return match tail {
            Some(tail) => modbus(tail, out),
            None => Ok(()),
        };
    }
    if let Some(rest) = t.strip_prefix("function") {
        let (func, sub) = match rest.trim().split_once(',') {
            Some((f, s)) => {
                let s = s.trim().strip_prefix("subfunction").ok_or(format!("{s:?}: expected subfunction N"))?;
                (f.trim(), Some(s.trim().parse::<u64>().map_err(|_| format!("subfunction {s:?} is not a number"))?))
            }
            None => (rest.trim(), None),
        };
        if let Ok(code) = func.parse::<u64>() {
            if code == 0 || code > 255 {
                return Err(format!("function {code} is not a Modbus function code"));
            }
            out.limit_functions([code]);
            if let Some(s) = sub {
                out.matches.push(("modbus.subfunction".into(), Value::from(s)));
            }
            return Ok(());
        }
        if sub.is_some() {
            return Err("a subfunction goes with a function code, not a category".into());
        }
        let (codes, diag, mei) = category_codes(func)?;
        out.limit_functions(codes);
        if !diag.is_null() {
            out.unless.push(unless(&[("modbus.function", 8.into()), ("modbus.subfunction", diag)]));
            out.unless.push(unless(&[("modbus.function", 43.into()), ("modbus.mei_type", mei)]));
        }
        return Ok(());
    }
    if let Some(rest) = t.strip_prefix("access") {
        let mut parts = rest.split(',').map(str::trim);
        let head: Vec<&str> = parts.next().unwrap_or("").split_whitespace().collect();
        let (access, table) = match head.as_slice() {
            [a] => (*a, None),
            [a, t] => (*a, Some(*t)),
            _ => return Err(format!("access {rest:?}: expected read|write [coils|discretes|input|holding]")),
        };
        out.limit_functions(access_functions(access, table)?);
        let mut address = None;
        for part in parts {
            if let Some(a) = part.strip_prefix("address") {
                address = Some(a.trim().to_string());
                out.matches.push(("modbus.register".into(), ranges_value(&modbus_value_range(a)?)));
            } else if let Some(v) = part.strip_prefix("value") {
                let Some(addr) = address.as_deref().filter(|a| a.parse::<u64>().is_ok()) else {
                    return Err("value needs a single address before it".into());
                };
                if access == "read" {
                    return Err("value works with write access only".into());
                }
                out.matches.push(("modbus.write.address".into(), Value::from(addr.parse::<u64>().unwrap_or(0))));
                out.matches.push(("modbus.write.value".into(), ranges_value(&modbus_value_range(v)?)));
            } else {
                return Err(format!("{part:?}: expected address or value"));
            }
        }
        return Ok(());
    }
    Err(format!("modbus: {t:?}: expected function, access or unit"))
}

/// Suricata's DNP3 function names.
const DNP3_FUNCTIONS: [(&str, u64); 37] = [
    ("confirm", 0),
    ("read", 1),
    ("write", 2),
    ("select", 3),
    ("operate", 4),
    ("direct_operate", 5),
    ("direct_operate_nr", 6),
    ("immed_freeze", 7),
    ("immed_freeze_nr", 8),
    ("freeze_clear", 9),
    ("freeze_clear_nr", 10),
    ("freeze_at_time", 11),
    ("freeze_at_time_nr", 12),
    ("cold_restart", 13),
    ("warm_restart", 14),
    ("initialize_data", 15),
    ("initialize_appl", 16),
    ("start_appl", 17),
    ("stop_appl", 18),
    ("save_config", 19),
    ("enable_unsolicited", 20),
    ("disable_unsolicited", 21),
    ("assign_class", 22),
    ("delay_measure", 23),
    ("record_current_time", 24),
    ("open_file", 25),
    ("close_file", 26),
    ("delete_file", 27),
    ("get_file_info", 28),
    ("authenticate_file", 29),
    ("abort_file", 30),
    ("activate_config", 31),
    ("authenticate_req", 32),
    ("authenticate_err", 33),
    ("response", 129),
    ("unsolicited_response", 130),
    ("authenticate_resp", 131),
];

/// `dnp3_func:21`, `dnp3.func:cold_restart`, `dnp3.func:!0`, `dnp3.func:>128`.
pub(crate) fn dnp3_func(text: &str, out: &mut Conditions) -> Result<(), String> {
    let t = text.trim();
    let (negated, name) = match t.strip_prefix('!') {
        Some(n) => (true, n.trim()),
        None => (false, t),
    };
    let codes: Vec<u64> = match DNP3_FUNCTIONS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        Some(&(_, code)) => (0..=255).filter(|&c| (c == code) != negated).collect(),
        None => {
            let f = suricata_uint(t).map_err(|e| format!("dnp3 function {t:?}: not a function name, and {e}"))?;
            (0..=255).filter(|&c| f(c)).collect()
        }
    };
    out.limit_functions(codes);
    Ok(())
}

/// IIN bits as Suricata numbers them (IIN1 the high byte), as our `dnp3.iin` does.
const IIN_FLAGS: [(&str, u64); 16] = [
    ("all_stations", 0x0100),
    ("class_1_events", 0x0200),
    ("class_2_events", 0x0400),
    ("class_3_events", 0x0800),
    ("need_time", 0x1000),
    ("local_control", 0x2000),
    ("device_trouble", 0x4000),
    ("device_restart", 0x8000),
    ("no_func_code_support", 0x0001),
    ("object_unknown", 0x0002),
    ("parameter_error", 0x0004),
    ("event_buffer_overflow", 0x0008),
    ("already_executing", 0x0010),
    ("config_corrupt", 0x0020),
    ("reserved_2", 0x0040),
    ("reserved_1", 0x0080),
];

/// `dnp3.ind` (and `dnp3_ind`): a number in the integer syntax, or flag names with an
/// optional modifier (`*` any, `+` all and others, `-` not all, `=` exactly) where `!`
/// requires a flag clear. Without a modifier the listed flags must be set and the
/// negated ones clear (Suricata 9; Suricata 7 matched when any listed flag was set).
pub(crate) fn dnp3_ind(text: &str, out: &mut Conditions) -> Result<(), String> {
    let t = text.trim();
    let starts_with_name = t.trim_start_matches(['*', '+', '-', '=', '!']).starts_with(|c: char| c.is_ascii_alphabetic());
    if !starts_with_name {
        let f = suricata_uint(t)?;
        let ranges = ranges_where(0xFFFF, f);
        if ranges.is_empty() {
            return Err(format!("dnp3.ind:{t} can never match"));
        }
        out.matches.push(("dnp3.iin".into(), ranges_value(&ranges)));
        return Ok(());
    }
    let (modifier, list) = match t.chars().next() {
        Some(m @ ('*' | '+' | '-' | '=')) => (Some(m), t.get(1..).unwrap_or("")),
        _ => (None, t),
    };
    let (mut set, mut clear) = (0u64, 0u64);
    for item in list.split(',').map(str::trim) {
        let (neg, name) = match item.strip_prefix('!') {
            Some(n) => (true, n.trim()),
            None => (false, item),
        };
        let bit = IIN_FLAGS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, b)| b)
            .ok_or_else(|| format!("{name:?} is not a DNP3 internal indication"))?;
        if neg {
            clear |= bit;
        } else {
            set |= bit;
        }
    }
    let mask = set | clear;
    let test = match modifier {
        None => format!("&{mask:#06x}={set:#06x}"),
        Some('+') if clear == 0 => format!("&{set:#06x}={set:#06x}"),
        Some('*') if clear == 0 => format!("&{set:#06x}!=0"),
        Some('-') if clear == 0 => format!("&{set:#06x}!={set:#06x}"),
        Some('=') if clear == 0 => format!("&0xffff={set:#06x}"),
        Some(m) => return Err(format!("modifier {m} with negated flags")),
    };
    if modifier.is_none() && clear == 0 && set.count_ones() > 1 {
        out.notes.push(format!("dnp3.ind:{t} needs every listed flag set, as Suricata 9 reads it (Suricata 7: any of them)"));
    }
    out.matches.push(("dnp3.iin".into(), Value::from(test)));
    Ok(())
}

/// `dnp3_obj:GROUP,VARIATION`.
pub(crate) fn dnp3_obj(text: &str, out: &mut Conditions) -> Result<(), String> {
    let (g, v) = text.split_once(',').ok_or(format!("dnp3_obj:{text}: expected GROUP,VARIATION"))?;
    let n = |s: &str| s.trim().parse::<u8>().map(u64::from).map_err(|_| format!("{s:?} is not 0-255"));
    out.matches.push(("dnp3.object.group".into(), Value::from(n(g)?)));
    out.matches.push(("dnp3.object.variation".into(), Value::from(n(v)?)));
    Ok(())
}

/// Our event for Suricata's app-layer event `name`, from `events` (the registered
/// protocols' names: Suricata's and ours).
pub(crate) fn anomaly_event(name: &str, events: &[(&str, &str)]) -> Result<String, String> {
    let (proto, _) = name.split_once('.').ok_or(format!("app-layer-event:{name}: expected PROTOCOL.EVENT"))?;
    if let Some((_, ours)) = events.iter().find(|(theirs, _)| *theirs == name) {
        return Ok((*ours).to_string());
    }
    let prefix = format!("{proto}.");
    if events.iter().any(|(theirs, _)| theirs.starts_with(&prefix)) {
        return Err(format!("{proto} has no event {:?}", name.get(prefix.len()..).unwrap_or_default()));
    }
    let mut protocols: Vec<&str> = events.iter().filter_map(|(theirs, _)| theirs.split_once('.').map(|p| p.0)).collect();
    protocols.dedup();
    Err(format!("app-layer events of {proto} are not imported ({} only)", protocols.join(" and ")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Events as two registered protocols would give them.
    pub(crate) const EVENTS: &[(&str, &str)] = &[
        ("modbus.invalid_length", "modbus.invalid_length"),
        ("modbus.flooded", "modbus.flooded"),
        ("dnp3.flooded", "dnp3.flooded"),
        ("dnp3.max_points_per_object", "dnp3.too_many_points"),
        ("dnp3.too_many_points", "dnp3.too_many_points"),
    ];

    fn conds(f: fn(&str, &mut Conditions) -> Result<(), String>, text: &str) -> Conditions {
        let mut c = Conditions::default();
        f(text, &mut c).unwrap();
        c
    }

    #[test]
    fn modbus_forms() {
        let c = conds(modbus, "unit >9, access read coils, address 0<>2");
        assert_eq!(c.functions, Some([1].into()));
        assert_eq!(c.matches[0], ("modbus.unit_id".into(), Value::from("10-65535")));
        assert_eq!(c.matches[1], ("modbus.register".into(), Value::from("0-1")), "from 0: below the high end");
        let c = conds(modbus, "access write holding, address 100, value 10<>20");
        assert_eq!(c.functions, Some([6, 16, 22, 23].into()));
        assert_eq!(c.matches[2], ("modbus.write.value".into(), Value::from("11-19")));
        let c = conds(modbus, "function assigned");
        assert!(c.functions.as_ref().unwrap().contains(&24) && !c.functions.as_ref().unwrap().contains(&90));
        assert_eq!(c.unless.len(), 2);
        let c = conds(modbus, "function !reserved");
        assert!(c.functions.as_ref().unwrap().contains(&8) && !c.functions.as_ref().unwrap().contains(&125));
        let mut c = Conditions::default();
        assert!(modbus("access write input", &mut c).is_err());
        assert!(modbus("access read, address 1, value 2", &mut c).is_err());
        assert!(modbus("function 0", &mut c).is_err());
        assert!(modbus("fnuction 1", &mut c).is_err());
    }

    #[test]
    fn dnp3_forms() {
        assert_eq!(conds(dnp3_func, "unsolicited_response").functions, Some([130].into()));
        assert_eq!(conds(dnp3_func, "21").functions, Some([21].into()));
        assert_eq!(conds(dnp3_ind, "device_restart,!need_time").matches[0].1, Value::from("&0x9000=0x8000"));
        assert_eq!(conds(dnp3_ind, "0x8000").matches[0].1, Value::from(0x8000u64));
        assert_eq!(conds(dnp3_ind, "!0").matches[0].1, Value::from("1-65535"));
        assert_eq!(conds(dnp3_ind, "*class_1_events,class_2_events").matches[0].1, Value::from("&0x0600!=0"));
        assert_eq!(conds(dnp3_obj, "22,01").matches[1].1, Value::from(1u64));
        assert!(dnp3_ind("no_such_flag", &mut Conditions::default()).is_err());
        assert_eq!(anomaly_event("dnp3.max_points_per_object", EVENTS).unwrap(), "dnp3.too_many_points");
        assert_eq!(anomaly_event("dnp3.nonsense", EVENTS).unwrap_err(), "dnp3 has no event \"nonsense\"");
        assert_eq!(anomaly_event("http.foo", EVENTS).unwrap_err(), "app-layer events of http are not imported (modbus and dnp3 only)");
    }
}
