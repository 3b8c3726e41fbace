//! What a condition accepts: numbers, ranges and sets of them, names and `*` patterns,
//! booleans, and address sets with CIDRs and `$VARIABLES`. Parsed once when rules load.
use crate::content::{self, Content};
use otsentry_core::{FieldType, FieldValue};
use serde_yaml_ng::Value;
use std::net::IpAddr;

/// A compiled test on one field value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    /// Inclusive ranges.
    Uint(Vec<(u64, u64)>),
    Int(Vec<(i64, i64)>),
    Float(Vec<(f64, f64)>),
    Str(Vec<Glob>),
    Bool(bool),
    /// Bit tests `(mask, value, equal)`: `value & mask == value` (or `!=`); any one holds.
    Masked(Vec<(u64, u64, bool)>),
    /// Byte contents that must all be found, in order.
    Content(Vec<Content>),
}

impl Test {
    /// The lowest value of a number condition no field of at most `max` can reach (a
    /// function code of 300), if there is one.
    pub(crate) fn impossible_above(&self, max: Option<u64>) -> Option<u64> {
        let (Test::Uint(ranges), Some(max)) = (self, max) else { return None };
        ranges.iter().map(|&(lo, _)| lo).find(|&lo| lo > max)
    }

    #[inline]
    pub(crate) fn accepts(&self, v: FieldValue<'_>) -> bool {
        match (self, v) {
            (Test::Uint(r), FieldValue::U64(x)) => r.iter().any(|&(lo, hi)| (lo..=hi).contains(&x)),
            (Test::Uint(r), FieldValue::I64(x)) => u64::try_from(x).is_ok_and(|x| r.iter().any(|&(lo, hi)| (lo..=hi).contains(&x))),
            (Test::Int(r), FieldValue::I64(x)) => r.iter().any(|&(lo, hi)| (lo..=hi).contains(&x)),
            (Test::Int(r), FieldValue::U64(x)) => i64::try_from(x).is_ok_and(|x| r.iter().any(|&(lo, hi)| (lo..=hi).contains(&x))),
            (Test::Float(r), FieldValue::F64(x)) => r.iter().any(|&(lo, hi)| lo <= x && x <= hi),
            (Test::Float(r), FieldValue::U64(x)) => r.iter().any(|&(lo, hi)| lo <= x as f64 && x as f64 <= hi),
            (Test::Str(g), FieldValue::Str(s)) => g.iter().any(|g| g.matches(s)),
            (Test::Bool(b), FieldValue::Bool(x)) => *b == x,
            (Test::Masked(m), FieldValue::U64(x)) => m.iter().any(|&(mask, want, equal)| (x & mask == want) == equal),
            (Test::Content(c), FieldValue::Bytes(b)) => content::matches(c, b),
            _ => false,
        }
    }

    /// The values of a small unsigned set, for indexing rules by function code.
    pub(crate) fn keys(&self) -> Option<Vec<u64>> {
        let Test::Uint(ranges) = self else { return None };
        let span: u64 = ranges.iter().map(|&(lo, hi)| hi.saturating_sub(lo).saturating_add(1)).sum();
        (span <= 65_536).then(|| ranges.iter().flat_map(|&(lo, hi)| lo..=hi).collect())
    }
}

/// A name with `*` wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob(String);

impl Glob {
    pub(crate) fn matches(&self, s: &str) -> bool {
        let p = self.0.as_str();
        if !p.contains('*') {
            return p == s;
        }
        let mut parts = p.split('*');
        let first = parts.next().unwrap_or("");
        let Some(mut rest) = s.strip_prefix(first) else { return false };
        let parts: Vec<&str> = parts.collect();
        let (last, middle) = parts.split_last().map_or(("", &[][..]), |(l, m)| (*l, m));
        for part in middle {
            match rest.find(part) {
                Some(i) => rest = rest.get(i + part.len()..).unwrap_or(""),
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

fn number(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// One unsigned term: `5`, `0x29`, `40001-40100`, `1..10`, `>=100`, `<8`, or any of
/// them negated (`!0`, `!5-9`): every value outside it.
fn uint_terms(text: &str) -> Option<Vec<(u64, u64)>> {
    let t = text.trim();
    let Some(inner) = t.strip_prefix('!') else { return uint_term(t).map(|r| vec![r]) };
    let (lo, hi) = uint_term(inner)?;
    let mut out = Vec::new();
    if lo > 0 {
        out.push((0, lo - 1));
    }
    if hi < u64::MAX {
        out.push((hi + 1, u64::MAX));
    }
    (!out.is_empty()).then_some(out)
}

/// `&0x9000=0x8000` or `&0x8000!=0`: the bits under a mask equal (or differ from) a value.
fn mask_term(text: &str) -> Option<(u64, u64, bool)> {
    let t = text.trim().strip_prefix('&')?;
    let (mask, want, equal) = match t.split_once("!=") {
        Some((m, v)) => (m, v, false),
        None => t.split_once('=').map(|(m, v)| (m, v, true))?,
    };
    let (mask, want) = (number(mask)?, number(want)?);
    // A value with bits outside the mask can never match.
    (want & !mask == 0).then_some((mask, want, equal))
}

fn uint_term(text: &str) -> Option<(u64, u64)> {
    let t = text.trim();
    if let Some(n) = t.strip_prefix(">=") {
        return number(n).map(|n| (n, u64::MAX));
    }
    if let Some(n) = t.strip_prefix("<=") {
        return number(n).map(|n| (0, n));
    }
    if let Some(n) = t.strip_prefix('>') {
        return number(n).and_then(|n| n.checked_add(1)).map(|n| (n, u64::MAX));
    }
    if let Some(n) = t.strip_prefix('<') {
        return number(n).and_then(|n| n.checked_sub(1)).map(|n| (0, n));
    }
    let split = t.split_once("..").or_else(|| t.split_once('-'));
    match split {
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo)?, number(hi)?);
            (lo <= hi).then_some((lo, hi))
        }
        None => number(t).map(|n| (n, n)),
    }
}

fn float_term(text: &str) -> Option<(f64, f64)> {
    let t = text.trim();
    let f = |s: &str| s.trim().parse::<f64>().ok().filter(|v| !v.is_nan());
    if let Some(n) = t.strip_prefix(">=") {
        return f(n).map(|n| (n, f64::INFINITY));
    }
    if let Some(n) = t.strip_prefix("<=") {
        return f(n).map(|n| (f64::NEG_INFINITY, n));
    }
    if let Some(n) = t.strip_prefix('>') {
        return f(n).map(|n| (n.next_up(), f64::INFINITY));
    }
    if let Some(n) = t.strip_prefix('<') {
        return f(n).map(|n| (f64::NEG_INFINITY, n.next_down()));
    }
    match t.split_once("..") {
        Some((lo, hi)) => f(lo).zip(f(hi)).filter(|(lo, hi)| lo <= hi),
        None => f(t).map(|v| (v, v)),
    }
}

/// Every scalar of a value (a list's elements, or a comma-separated string's parts).
fn terms(v: &Value) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Value::Sequence(items) if !items.is_empty() => items.iter().map(scalar).collect(),
        Value::String(s) => Some(s.split(',').map(|p| p.trim().to_string()).collect()),
        other => scalar(other).map(|s| vec![s]),
    }
}

/// A condition's test for a field of type `ty`, or why the value does not fit.
pub(crate) fn test(ty: FieldType, v: &Value) -> Result<Test, String> {
    if ty == FieldType::Bytes {
        return content::contents(v).map(Test::Content);
    }
    let terms = terms(v).ok_or_else(|| format!("expected a {} or a list of them", ty.as_str()))?;
    let bad = |t: &str, what: &str| format!("{t:?} is not {what}");
    match ty {
        FieldType::Uint if terms.iter().any(|t| t.trim().starts_with('&')) => terms
            .iter()
            .map(|t| mask_term(t).ok_or_else(|| bad(t, "a bit test (&mask=value or &mask!=value)")))
            .collect::<Result<_, _>>()
            .map(Test::Masked),
        FieldType::Uint => terms
            .iter()
            .map(|t| {
                uint_terms(t).ok_or_else(|| bad(t, "an unsigned number, a range (lo-hi), a comparison (>=n) or one of them negated (!n)"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|sets| Test::Uint(sets.concat())),
        FieldType::Int => terms
            .iter()
            .map(|t| {
                let t = t.trim();
                let one = |s: &str| s.trim().parse::<i64>().ok();
                match t.split_once("..") {
                    Some((lo, hi)) => one(lo).zip(one(hi)).filter(|(lo, hi)| lo <= hi),
                    None => one(t).map(|v| (v, v)),
                }
                .ok_or_else(|| bad(t, "an integer or a range (lo..hi)"))
            })
            .collect::<Result<_, _>>()
            .map(Test::Int),
        FieldType::Float => terms
            .iter()
            .map(|t| float_term(t).ok_or_else(|| bad(t, "a number, a range (lo..hi) or a comparison (>n)")))
            .collect::<Result<_, _>>()
            .map(Test::Float),
        FieldType::Str => Ok(Test::Str(terms.into_iter().map(Glob).collect())),
        FieldType::Bool => match v {
            Value::Bool(b) => Ok(Test::Bool(*b)),
            _ => Err("expected true or false".into()),
        },
        FieldType::Bytes | FieldType::Ip => Err(format!("{} fields cannot be matched yet", ty.as_str())),
    }
}

/// An address prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Net {
    v4: bool,
    bits: u128,
    len: u8,
}

impl Net {
    pub(crate) fn parse(text: &str) -> Option<Net> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a.trim(), Some(l.trim().parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (v4, bits, max) = match ip {
            IpAddr::V4(a) => (true, u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (false, u128::from(a), 128),
        };
        let len = len.unwrap_or(max);
        (len <= max).then(|| Net { v4, bits: bits & mask(len, max), len })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let (v4, bits, max) = match ip {
            IpAddr::V4(a) => (true, u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (false, u128::from(a), 128),
        };
        v4 == self.v4 && bits & mask(self.len, max) == self.bits
    }
}

fn mask(len: u8, max: u8) -> u128 {
    let width = u32::from(max);
    let keep = u32::from(len);
    if keep == 0 {
        0
    } else {
        let all = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
        all & !((1u128 << (width - keep)) - 1).min(all)
    }
}

/// An address set as a rule writes it: prefixes and variable names, possibly negated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddrSpec {
    pub(crate) negated: bool,
    pub(crate) nets: Vec<Net>,
    pub(crate) vars: Vec<String>,
}

pub(crate) fn addr_spec(v: &Value) -> Result<AddrSpec, String> {
    let terms = terms(v).ok_or("expected an address, a CIDR, a $VARIABLE or a list of them")?;
    let mut spec = AddrSpec::default();
    for (i, t) in terms.iter().enumerate() {
        let mut t = t.trim();
        if let Some(rest) = t.strip_prefix('!') {
            if i > 0 {
                return Err("`!` negates the whole set: write it once, before the first element".into());
            }
            spec.negated = true;
            t = rest.trim();
        }
        if let Some(name) = t.strip_prefix('$') {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{t:?} is not a variable name ($ then letters, digits, _)"));
            }
            spec.vars.push(name.to_string());
        } else {
            spec.nets.push(Net::parse(t).ok_or_else(|| format!("{t:?} is not an address or a CIDR"))?);
        }
    }
    Ok(spec)
}

/// A resolved address set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddrSet {
    pub(crate) negated: bool,
    pub(crate) nets: Vec<Net>,
}

impl AddrSet {
    pub(crate) fn matches(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip)) != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml_ng::from_str(s).unwrap()
    }

    #[test]
    fn unsigned_terms_ranges_sets_and_comparisons() {
        let t = test(FieldType::Uint, &yaml("[5, 6, 15-16, '0x17', '>=200']")).unwrap();
        for v in [5, 6, 15, 16, 23, 200, 9999] {
            assert!(t.accepts(FieldValue::U64(v)), "{v}");
        }
        for v in [0, 7, 17, 22, 199] {
            assert!(!t.accepts(FieldValue::U64(v)), "{v}");
        }
        assert_eq!(test(FieldType::Uint, &yaml("40001-40100")).unwrap(), Test::Uint(vec![(40001, 40100)]));
        assert_eq!(test(FieldType::Uint, &yaml("'1,3'")).unwrap().keys(), Some(vec![1, 3]));
        assert!(test(FieldType::Uint, &yaml("write")).is_err());
        assert!(test(FieldType::Uint, &yaml("10-5")).is_err(), "an empty range");
        assert!(test(FieldType::Uint, &yaml("'>=0'")).unwrap().keys().is_none(), "too wide to index");
    }

    #[test]
    fn negated_terms_and_bit_tests() {
        let t = test(FieldType::Uint, &yaml("'!0'")).unwrap();
        assert!(!t.accepts(FieldValue::U64(0)) && t.accepts(FieldValue::U64(1)) && t.accepts(FieldValue::U64(u64::MAX)));
        let t = test(FieldType::Uint, &yaml("'!5-9'")).unwrap();
        assert!(t.accepts(FieldValue::U64(4)) && !t.accepts(FieldValue::U64(7)) && t.accepts(FieldValue::U64(10)));
        // device_restart set, need_time clear (Suricata's IIN layout).
        let t = test(FieldType::Uint, &yaml("'&0x9000=0x8000'")).unwrap();
        assert!(t.accepts(FieldValue::U64(0x8000)) && t.accepts(FieldValue::U64(0x8002)));
        assert!(!t.accepts(FieldValue::U64(0x9000)) && !t.accepts(FieldValue::U64(0)));
        let t = test(FieldType::Uint, &yaml("'&0x8000!=0'")).unwrap();
        assert!(t.accepts(FieldValue::U64(0x8000)) && !t.accepts(FieldValue::U64(0x1000)));
        assert!(test(FieldType::Uint, &yaml("'&0x0f=0x10'")).is_err(), "a value outside its mask never matches");
        assert!(test(FieldType::Uint, &yaml("['&0x0f=1', 3]")).is_err());
    }

    #[test]
    fn bytes_take_contents() {
        let t = test(FieldType::Bytes, &yaml("'|02 01 28|'")).unwrap();
        assert!(t.accepts(FieldValue::Bytes(&[0xC0, 0x82, 2, 1, 0x28, 1])));
        assert!(!t.accepts(FieldValue::Bytes(&[2, 1, 0x29])));
        let t = test(FieldType::Bytes, &yaml("[{content: 'ab', nocase: true}, {content: '|00|', distance: 0, within: 1}]")).unwrap();
        assert!(t.accepts(FieldValue::Bytes(b"xAB\0")) && !t.accepts(FieldValue::Bytes(b"xAB \0")));
        assert!(test(FieldType::Bytes, &yaml("{content: 'a', offset: 1, within: 2}")).is_err());
        assert!(test(FieldType::Bytes, &yaml("{contents: 'a'}")).is_err());
    }

    #[test]
    fn names_match_exactly_or_by_pattern() {
        let t = test(FieldType::Str, &yaml("[modbus.*, '*.resync', 'stream.*gap*']")).unwrap();
        for s in ["modbus.invalid_length", "s7comm.resync", "stream.reassembly_seq_gap_x"] {
            assert!(t.accepts(FieldValue::Str(s)), "{s}");
        }
        for s in ["dnp3.bad_link_crc", "modbusx", "stream.overlap"] {
            assert!(!t.accepts(FieldValue::Str(s)), "{s}");
        }
        assert!(Glob("a*a".into()).matches("aa") && !Glob("a*a".into()).matches("a"));
    }

    #[test]
    fn floats_and_booleans() {
        let t = test(FieldType::Float, &yaml("'>100.5'")).unwrap();
        assert!(t.accepts(FieldValue::F64(100.6)) && !t.accepts(FieldValue::F64(100.5)));
        assert!(test(FieldType::Bool, &yaml("true")).unwrap().accepts(FieldValue::Bool(true)));
        assert!(test(FieldType::Bool, &yaml("yes please")).is_err());
    }

    #[test]
    fn address_sets() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let n = Net::parse("10.1.0.0/16").unwrap();
        assert!(n.contains(ip("10.1.200.3")) && !n.contains(ip("10.2.0.1")) && !n.contains(ip("::1")));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(ip("192.0.2.1")));
        assert!(Net::parse("2001:db8::/32").unwrap().contains(ip("2001:db8::5")));
        assert!(Net::parse("10.0.0.0/33").is_none());
        let spec = addr_spec(&yaml("'!$HMI, 10.0.0.1'")).unwrap();
        assert!(spec.negated);
        assert_eq!(spec.vars, vec!["HMI".to_string()]);
        assert!(addr_spec(&yaml("[10.0.0.1, '!10.0.0.2']")).is_err());
        assert!(addr_spec(&yaml("not-an-address")).is_err());
    }
}
