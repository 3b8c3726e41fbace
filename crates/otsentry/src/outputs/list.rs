//! The outputs as configured: the configuration file's `outputs:` list and shorthand
//! keys, the command line's shorthand flags (which win, key by key), merged into one
//! list of entries.
use super::{kind_named, Entry, Key, Kind, KINDS};
use crate::outputs::OutputFlags;
use serde_yaml_ng::Value;

/// What a section of the configuration file says about outputs.
#[derive(Clone, Default)]
pub(crate) struct FileOutputs {
    /// Shorthand keys (`eve:`, `clickhouse-types:`), each checked.
    pub(crate) shorthand: Vec<(&'static Kind, &'static Key, Vec<String>)>,
    /// The `outputs:` list, each entry checked.
    pub(crate) entries: Vec<Entry>,
}

impl std::fmt::Debug for FileOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.shorthand.iter().map(|(_, k, _)| k.flag).collect();
        let entries: Vec<&str> = self.entries.iter().map(|e| e.origin.as_str()).collect();
        f.debug_struct("FileOutputs").field("shorthand", &keys).field("entries", &entries).finish()
    }
}

impl FileOutputs {
    /// A shorthand key's values, if the section sets it.
    pub(crate) fn get(&self, flag: &str) -> Option<&[String]> {
        self.shorthand.iter().find(|(_, k, _)| k.flag == flag).map(|(_, _, v)| v.as_slice())
    }
}

/// Every shorthand key a section takes.
pub(crate) fn shorthand_keys() -> impl Iterator<Item = &'static str> {
    KINDS.iter().flat_map(|k| k.keys.iter().map(|key| key.flag))
}

/// The output key behind a shorthand section key, if `flag` is one.
pub(crate) fn shorthand_key(flag: &str) -> Option<(&'static Kind, &'static Key)> {
    KINDS.iter().find_map(|kind| kind.keys.iter().find(|k| k.flag == flag).map(|k| (*kind, k)))
}

/// A YAML value as the key's text values, each checked.
pub(crate) fn values(key: &Key, value: &Value) -> Result<Vec<String>, String> {
    let scalar = |v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(format!("expected {}", key.value_name)),
        }
    };
    let items: Vec<String> = match value {
        Value::Sequence(items) if key.list => items.iter().map(scalar).collect::<Result<_, _>>()?,
        Value::String(s) if key.list => s.split(',').map(|t| t.trim().to_string()).collect(),
        other => vec![scalar(other)?],
    };
    for item in &items {
        (key.check)(item)?;
    }
    Ok(items.into_iter().map(|t| if key.list { t.trim().to_string() } else { t }).collect())
}

/// A mistake in an `outputs:` entry: which entry (from 0) and key (empty for the
/// entry as a whole).
pub(crate) struct EntryIssue {
    pub(crate) index: usize,
    pub(crate) key: String,
    pub(crate) message: String,
}

/// The `outputs:` list of `section`: the entries that are sound, and every mistake.
pub(crate) fn entries_from_yaml(section: &str, value: &Value) -> (Vec<Entry>, Vec<EntryIssue>) {
    let kinds = || KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
    let mut entries = Vec::new();
    let mut issues = Vec::new();
    let Value::Sequence(list) = value else {
        let message = format!("expected a list of outputs, each a mapping whose first key is its kind ({})", kinds());
        issues.push(EntryIssue { index: usize::MAX, key: String::new(), message });
        return (entries, issues);
    };
    for (index, item) in list.iter().enumerate() {
        let mut issue = |key: &str, message: String| issues.push(EntryIssue { index, key: key.to_string(), message });
        let Value::Mapping(map) = item else {
            issue("", format!("expected a mapping whose first key is the output's kind ({})", kinds()));
            continue;
        };
        let named: Vec<&'static Kind> = map.keys().filter_map(|k| k.as_str().and_then(kind_named)).collect();
        let kind = match named.as_slice() {
            [kind] => *kind,
            [] => {
                let first = map.keys().next().and_then(Value::as_str).unwrap_or_default().to_string();
                let near = otsentry_core::nearest(&first, KINDS.iter().map(|k| k.name));
                let hint = near.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                issue(&first, format!("unknown output kind{hint}: an entry's first key is its kind ({}) and where it goes", kinds()));
                continue;
            }
            _ => {
                issue("", "an entry is one output: it names one kind".into());
                continue;
            }
        };
        let mut entry = Entry { kind, values: Vec::new(), origin: format!("{section}.outputs[{index}]") };
        let mut sound = true;
        for (k, v) in map {
            let name = k.as_str().unwrap_or_default();
            let Some(key) = kind.keys.iter().find(|key| key.name == name) else {
                let near = otsentry_core::nearest(name, kind.keys.iter().map(|k| k.name));
                let hint = near.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                issue(
                    name,
                    format!(
                        "not a key of the {} output{hint} (it takes {})",
                        kind.name,
                        kind.keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                    ),
                );
                sound = false;
                continue;
            };
            match values(key, v) {
                Ok(vals) => entry.values.push((key, vals)),
                Err(message) => {
                    issue(name, message);
                    sound = false;
                }
            }
        }
        if sound {
            entries.push(entry);
        }
    }
    (entries, issues)
}

/// The run's outputs: for each kind, its shorthand flags (else the section's shorthand
/// keys) as one entry when its first key is set, then the file's `outputs:` list. A
/// shorthand without its kind's first key is an error naming both.
pub(crate) fn merge(flags: &OutputFlags, file: &FileOutputs) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for kind in KINDS {
        let mut values = Vec::new();
        for key in kind.keys {
            if let Some(v) = flags.get(key.flag).or_else(|| file.get(key.flag)) {
                values.push((key, v.to_vec()));
            }
        }
        let Some(first) = kind.keys.first() else { continue };
        match values.iter().any(|(k, _)| k.name == first.name) {
            true => entries.push(Entry { kind, values, origin: format!("--{}", first.flag) }),
            false => {
                if let Some((orphan, _)) = values.first() {
                    return Err(format!("--{} {}: give --{} too", orphan.flag, orphan.orphan, first.flag));
                }
            }
        }
    }
    entries.extend(file.entries.iter().cloned());
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn entries_name_their_kind_and_every_mistake() {
        let (entries, issues) = entries_from_yaml(
            "sense",
            &yaml("- eve: /tmp/a.json\n  types: [alert]\n- eve: /tmp/b.json\n  types: flow, modbus\n  rotate-size: 1M\n- cef: tcp://127.0.0.1:514\n"),
        );
        assert!(issues.is_empty());
        assert_eq!(entries.len(), 3);
        assert_eq!((entries[1].target(), entries[1].origin.as_str()), ("/tmp/b.json", "sense.outputs[1]"));
        assert!(entries[1].types().contains("modbus") && !entries[1].types().contains("alert"));
        assert!(entries[2].types().contains("alert") && !entries[2].types().contains("flow"), "CEF takes alerts by default");
        let (entries, issues) = entries_from_yaml(
            "replay",
            &yaml("- syslog: udp://h:514\n- cef: smtp://h:25\n- eve: x\n  rotate-sise: 1M\n- [1]\n- eve: x\n  cef: udp://h:1\n"),
        );
        assert!(entries.is_empty());
        let said: Vec<String> = issues.iter().map(|i| format!("{} {}: {}", i.index, i.key, i.message)).collect();
        assert!(said[0].starts_with("0 syslog: unknown output kind"), "{said:?}");
        assert!(said[1].starts_with("1 cef: \"smtp://h:25\": unknown transport"), "{said:?}");
        assert!(said[2].starts_with("2 rotate-sise: not a key of the eve output (did you mean `rotate-size`?)"), "{said:?}");
        assert!(said[3].starts_with("3 : expected a mapping"), "{said:?}");
        assert!(said[4].starts_with("4 : an entry is one output"), "{said:?}");
    }

    #[test]
    fn flags_win_key_by_key_and_a_lone_shorthand_is_refused() {
        let (kind, key) = shorthand_key("eve-types").unwrap();
        let (eve_kind, eve_key) = shorthand_key("eve").unwrap();
        let file = FileOutputs {
            shorthand: vec![(eve_kind, eve_key, vec!["/tmp/file.json".into()]), (kind, key, vec!["flow".into()])],
            entries: Vec::new(),
        };
        let flags = OutputFlags { given: vec![(kind, key, vec!["alert".into()])] };
        let merged = merge(&flags, &file).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!((merged[0].target(), merged[0].origin.as_str()), ("/tmp/file.json", "--eve"));
        assert!(merged[0].types().contains("alert") && !merged[0].types().contains("flow"));
        let (kind, key) = shorthand_key("spool").unwrap();
        let lone = OutputFlags { given: vec![(kind, key, vec!["/tmp/s".into()])] };
        let e = merge(&lone, &FileOutputs::default()).err().unwrap();
        assert_eq!(e, "--spool keeps batches for --clickhouse: give --clickhouse too");
    }
}
