//! Suricata's value syntaxes (integers, ports, addresses) turned into ours.
use serde_yaml_ng::Value;

/// Inclusive ranges as a condition value: `5`, `"5-9"`, or a list of them.
pub(crate) fn ranges_value(ranges: &[(u64, u64)]) -> Value {
    let one = |&(lo, hi): &(u64, u64)| if lo == hi { Value::from(lo) } else { Value::from(format!("{lo}-{hi}")) };
    match ranges {
        [single] => one(single),
        many => Value::Sequence(many.iter().map(one).collect()),
    }
}

/// The values of `0..=max` a predicate holds for, as inclusive ranges.
pub(crate) fn ranges_where(max: u64, holds: impl Fn(u64) -> bool) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for v in 0..=max {
        if holds(v) {
            match out.last_mut() {
                Some((_, hi)) if *hi + 1 == v => *hi = v,
                _ => out.push((v, v)),
            }
        }
    }
    out
}

fn number(t: &str) -> Result<u64, String> {
    let t = t.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("{t:?} is not a number"))
}

/// Suricata's integer keyword syntax (`5`, `!5`, `>5`, `>=5`, `<5`, `<=5`, `1-4`
/// exclusive, `!1-4`, `&0xc0=0x80`, `&0xc0!=0`) as a predicate.
pub(crate) fn suricata_uint(expr: &str) -> Result<Box<dyn Fn(u64) -> bool>, String> {
    let t = expr.trim();
    if let Some(m) = t.strip_prefix('&') {
        let (mask, want, equal) = match m.split_once("!=") {
            Some((a, b)) => (number(a)?, number(b)?, false),
            None => {
                let (a, b) = m.split_once('=').ok_or(format!("{t:?}: a bit test is &mask=value or &mask!=value"))?;
                (number(a)?, number(b)?, true)
            }
        };
        return Ok(Box::new(move |v| (v & mask == want) == equal));
    }
    if let Some(n) = t.strip_prefix(">=") {
        let n = number(n)?;
        return Ok(Box::new(move |v| v >= n));
    }
    if let Some(n) = t.strip_prefix("<=") {
        let n = number(n)?;
        return Ok(Box::new(move |v| v <= n));
    }
    if let Some(n) = t.strip_prefix('>') {
        let n = number(n)?;
        return Ok(Box::new(move |v| v > n));
    }
    if let Some(n) = t.strip_prefix('<') {
        let n = number(n)?;
        return Ok(Box::new(move |v| v < n));
    }
    let (negated, body) = match t.strip_prefix("!=").or_else(|| t.strip_prefix('!')) {
        Some(b) => (true, b.trim()),
        None => (false, t.strip_prefix('=').unwrap_or(t).trim()),
    };
    let inside: Box<dyn Fn(u64) -> bool> = match body.split_once('-') {
        // Suricata's ranges are exclusive at both ends.
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo)?, number(hi)?);
            if lo >= hi {
                return Err(format!("{t:?}: the range's low end is not below its high end"));
            }
            Box::new(move |v| lo < v && v < hi)
        }
        None => {
            let n = number(body)?;
            Box::new(move |v| v == n)
        }
    };
    Ok(Box::new(move |v| inside(v) != negated))
}

/// A port set: `any`, `502`, `1024:`, `:1023`, `1:1024`, `[502, 20000]`, `!80`, `![80, 443]`.
pub(crate) fn ports(text: &str) -> Result<Option<Vec<(u64, u64)>>, String> {
    let t = text.trim();
    if t == "any" {
        return Ok(None);
    }
    let set = port_set(t)?;
    let ranges = ranges_where(65_535, |p| usize::try_from(p).ok().and_then(|p| set.get(p).copied()).unwrap_or(false));
    if ranges.is_empty() {
        return Err(format!("{t:?} leaves no port"));
    }
    Ok(Some(ranges))
}

/// The ports a term names: `!X` the complement; `[a, b, !c]` the union of its plain items
/// (every port when it has none) less its negated ones.
fn port_set(t: &str) -> Result<Vec<bool>, String> {
    let t = t.trim();
    if let Some(rest) = t.strip_prefix('!') {
        return Ok(port_set(rest)?.into_iter().map(|p| !p).collect());
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let items = split_top(inner);
        let (cut, add): (Vec<&String>, Vec<&String>) = items.iter().partition(|i| i.starts_with('!'));
        let mut set = vec![add.is_empty(); 65_536];
        for item in add {
            set.iter_mut().zip(port_set(item)?).for_each(|(s, p)| *s |= p);
        }
        for item in cut {
            set.iter_mut().zip(port_set(item.trim_start_matches('!'))?).for_each(|(s, p)| *s &= !p);
        }
        return Ok(set);
    }
    if t.starts_with('$') {
        return Err(format!("port variable {t}: give the ports themselves"));
    }
    if t == "any" {
        return Ok(vec![true; 65_536]);
    }
    let (lo, hi) = match t.split_once(':') {
        Some((a, b)) => (if a.is_empty() { 0 } else { number(a)? }, if b.is_empty() { 65_535 } else { number(b)? }),
        None => {
            let n = number(t)?;
            (n, n)
        }
    };
    if lo > hi || hi > 65_535 {
        return Err(format!("{t:?} is not a port or port range"));
    }
    Ok((0..65_536u64).map(|p| (lo..=hi).contains(&p)).collect())
}

/// Splits at commas outside brackets.
pub(crate) fn split_top(t: &str) -> Vec<String> {
    super::text::split_outside_groups(t, |c| c == ',')
}

/// An address side: the set to match, and sets whose members stay quiet.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Addresses {
    pub(crate) matched: Option<Value>,
    pub(crate) excluded: Option<Value>,
    pub(crate) notes: Vec<String>,
}

/// `any`, `10.0.0.1`, `10.0.0.0/8`, `$HOME_NET`, `!$HOME_NET`, `[a, b, !c]`.
pub(crate) fn addresses(text: &str) -> Result<Addresses, String> {
    let t = text.trim();
    let mut out = Addresses::default();
    if t == "any" {
        return Ok(out);
    }
    let (negated, body) = match t.strip_prefix('!') {
        Some(b) => (true, b.trim()),
        None => (false, t),
    };
    let items = match body.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) => split_top(inner),
        None => vec![body.to_string()],
    };
    let mut pos = Vec::new();
    let mut neg = Vec::new();
    for item in items {
        let (n, name) = match item.strip_prefix('!') {
            Some(r) => (true, r.trim().to_string()),
            None => (false, item.trim().to_string()),
        };
        if name.starts_with('[') {
            return Err(format!("nested address group {name}: flatten it"));
        }
        let name = if name == "$EXTERNAL_NET" {
            out.notes.push("$EXTERNAL_NET read as !$HOME_NET (Suricata's default)".into());
            if n {
                pos.push("$HOME_NET".to_string());
            } else {
                neg.push("$HOME_NET".to_string());
            }
            continue;
        } else {
            name
        };
        if name == "any" {
            return Err("`any` inside an address group".into());
        }
        if n {
            neg.push(name);
        } else {
            pos.push(name);
        }
    }
    let list = |v: &[String]| Value::Sequence(v.iter().cloned().map(Value::from).collect());
    match (negated, pos.is_empty(), neg.is_empty()) {
        // ![a, b]: anything but a and b; ![a, !b] is b or outside a.
        (true, _, true) => out.matched = Some(Value::from(format!("!{}", pos.join(", ")))),
        (true, _, false) => return Err("a negated address group with negated members: write it out".into()),
        (false, false, true) => out.matched = Some(list(&pos)),
        (false, true, false) => out.matched = Some(Value::from(format!("!{}", neg.join(", ")))),
        (false, false, false) => {
            out.matched = Some(list(&pos));
            out.excluded = Some(list(&neg));
        }
        (false, true, true) => return Err("an empty address group".into()),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(expr: &str, max: u64) -> Vec<(u64, u64)> {
        let f = suricata_uint(expr).unwrap();
        ranges_where(max, f)
    }

    #[test]
    fn integers_follow_suricata() {
        assert_eq!(set("21", 255), vec![(21, 21)]);
        assert_eq!(set("!0", 255), vec![(1, 255)]);
        assert_eq!(set("1-4", 255), vec![(2, 3)], "ranges are exclusive");
        assert_eq!(set("!1-4", 10), vec![(0, 1), (4, 10)]);
        assert_eq!(set(">=250", 255), vec![(250, 255)]);
        assert_eq!(set("&0xf0=0x20", 0x40), vec![(0x20, 0x2f)]);
        assert!(suricata_uint("4-1").is_err() && suricata_uint("x").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(super::ports("any").unwrap(), None);
        assert_eq!(super::ports("502").unwrap(), Some(vec![(502, 502)]));
        assert_eq!(super::ports("1024:").unwrap(), Some(vec![(1024, 65_535)]));
        assert_eq!(super::ports("[502,20000]").unwrap(), Some(vec![(502, 502), (20000, 20000)]));
        assert_eq!(super::ports("!80").unwrap(), Some(vec![(0, 79), (81, 65_535)]));
        assert_eq!(super::ports("![80,443]").unwrap(), Some(vec![(0, 79), (81, 442), (444, 65_535)]));
        assert_eq!(super::ports("[1:1024,!80]").unwrap(), Some(vec![(1, 79), (81, 1024)]));
        assert!(super::ports("$HTTP_PORTS").is_err());
    }

    #[test]
    fn address_groups() {
        let a = addresses("[10.0.0.0/8, !10.1.0.0/16]").unwrap();
        assert_eq!(a.matched, Some(Value::Sequence(vec!["10.0.0.0/8".into()])));
        assert_eq!(a.excluded, Some(Value::Sequence(vec!["10.1.0.0/16".into()])));
        assert_eq!(addresses("!$HOME_NET").unwrap().matched, Some("!$HOME_NET".into()));
        assert_eq!(addresses("$EXTERNAL_NET").unwrap().matched, Some("!$HOME_NET".into()));
        assert_eq!(addresses("any").unwrap(), Addresses::default());
    }
}
