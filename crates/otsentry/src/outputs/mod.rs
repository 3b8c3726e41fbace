//! The outputs as a list. Each kind (EVE, ClickHouse, CEF) is a module declaring its
//! keys once, with a factory from its settings: the keys become list-entry keys of the
//! configuration file's `outputs:`, and, prefixed by the kind, the shorthand flags and
//! section keys (`--eve-types`, `clickhouse-types:`). Nothing here names a kind but the
//! list of them.
mod cef;
mod clickhouse;
mod eve;
mod flags;
mod list;

pub(crate) use flags::OutputFlags;
pub(crate) use list::{entries_from_yaml, merge, shorthand_key, shorthand_keys, values, FileOutputs};

use anyhow::Context as _;
use otsentry_sink::{OutputOptions, Outputs, RecordSink, Spool, Spooled, TypeSet};
use std::path::Path;

/// One setting of an output kind.
pub(crate) struct Key {
    /// Its name in a list entry (`rotate-size`); the kind's first key is named as the
    /// kind and says where the output goes (`eve: PATH`).
    pub(crate) name: &'static str,
    /// The shorthand flag and section key (`eve-rotate-size`).
    pub(crate) flag: &'static str,
    pub(crate) value_name: &'static str,
    pub(crate) help: &'static str,
    /// Takes a list (comma-separated on the command line).
    pub(crate) list: bool,
    /// Checks one value (each item of a list).
    pub(crate) check: fn(&str) -> Result<(), String>,
    /// Checked when the run starts rather than by the command line's parser, which
    /// would echo the refused value (a URL may hold a password).
    pub(crate) late: bool,
    /// For a shorthand given without the kind's first key: what it is for (`chooses
    /// what --clickhouse gets`).
    pub(crate) orphan: &'static str,
}

/// An output kind.
pub(crate) struct Kind {
    pub(crate) name: &'static str,
    /// The first is where the output goes.
    pub(crate) keys: &'static [Key],
    /// The record types it gets when none are chosen.
    pub(crate) default_types: Option<&'static [&'static str]>,
    pub(crate) build: fn(&Entry, &Context<'_>) -> anyhow::Result<Box<dyn RecordSink>>,
    /// Checks what can be checked without opening the output (`sense --test-config`):
    /// URLs, files it reads.
    pub(crate) verify: fn(&Entry) -> anyhow::Result<()>,
}

/// Every output kind.
pub(crate) const KINDS: &[&Kind] = &[&eve::KIND, &clickhouse::KIND, &cef::KIND];

pub(crate) fn kind_named(name: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// One output as configured: its kind and the values of its keys, each checked.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) kind: &'static Kind,
    pub(crate) values: Vec<(&'static Key, Vec<String>)>,
    /// Where it was set, for messages: `--cef` or `replay.outputs[2]`.
    pub(crate) origin: String,
}

impl Entry {
    fn value(&self, name: &str) -> Option<&[String]> {
        self.values.iter().find(|(k, _)| k.name == name).map(|(_, v)| v.as_slice())
    }

    /// The key's single value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.value(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Where the output goes (its first key).
    pub(crate) fn target(&self) -> &str {
        self.kind.keys.first().and_then(|k| self.get(k.name)).unwrap_or_default()
    }

    /// The key's value parsed with `parse` (already checked when set).
    pub(crate) fn parsed<T>(&self, name: &str, parse: fn(&str) -> Result<T, String>) -> anyhow::Result<Option<T>> {
        self.get(name).map(|v| parse(v).map_err(|e| self.error(name, &e))).transpose()
    }

    /// A setting that cannot work, naming it as it was given (exit 2).
    pub(crate) fn error(&self, name: &str, message: &str) -> anyhow::Error {
        crate::usage::UsageError(format!("{}: {message}", self.setting(name))).into()
    }

    /// The setting as written: `--cef-ca` for a shorthand, `replay.outputs[1].ca`.
    pub(crate) fn setting(&self, name: &str) -> String {
        let first = self.kind.keys.first().is_some_and(|k| k.name == name);
        match self.origin.strip_prefix("--") {
            Some(_) if first => self.origin.clone(),
            Some(_) => self.kind.keys.iter().find(|k| k.name == name).map_or(name.to_string(), |k| format!("--{}", k.flag)),
            None => format!("{}.{name}", self.origin),
        }
    }

    /// The record types it gets.
    pub(crate) fn types(&self) -> TypeSet {
        match (self.value("types"), self.kind.default_types) {
            (Some(names), _) if !names.is_empty() => crate::eve::type_set(names),
            (_, Some(default)) => TypeSet::of(default),
            _ => TypeSet::ALL,
        }
    }

    /// An EVE output on stdout.
    pub(crate) fn is_stdout(&self) -> bool {
        self.kind.name == "eve" && self.target() == "-"
    }
}

/// What a factory may need beyond its entry.
pub(crate) struct Context<'a> {
    /// The sensor's name.
    pub(crate) host: &'a str,
    pub(crate) quiet: bool,
}

/// The outputs of a run, one per entry, each on its own thread; none without entries.
pub(crate) fn start(entries: &[Entry], cx: &Context<'_>) -> anyhow::Result<Option<Outputs>> {
    if entries.is_empty() {
        return Ok(None);
    }
    let mut outputs = Outputs::new(OutputOptions { host: cx.host.to_string(), ..Default::default() });
    for entry in entries {
        let sink = (entry.kind.build)(entry, cx)?;
        outputs.add_for(sink, entry.types()).with_context(|| format!("starting the thread of the output {}", entry.origin))?;
    }
    Ok(Some(outputs))
}

/// Checks every entry without opening any output.
pub(crate) fn verify(entries: &[Entry]) -> anyhow::Result<()> {
    entries.iter().try_for_each(|e| (e.kind.verify)(e))
}

/// Nothing to check before opening.
pub(crate) fn nothing(_: &Entry) -> anyhow::Result<()> {
    Ok(())
}

/// `sink` behind the spool in `dir` (capped at `cap` bytes), saying what an earlier
/// run left there.
pub(crate) fn spooled<S: RecordSink + 'static>(sink: S, dir: &Path, cap: u64, quiet: bool) -> anyhow::Result<Box<dyn RecordSink>> {
    let name = sink.name();
    let spool = Spool::open(dir, cap).with_context(|| format!("opening the spool for {name}"))?;
    let held = spool.counts().clone();
    if held.batches > 0 && !quiet {
        crate::report::say!(
            "otsentry: the spool {} holds {} batches ({} bytes) of an earlier run: they go to {name} first",
            dir.display(),
            held.batches,
            held.bytes
        );
    }
    Ok(Box::new(Spooled::new(sink, spool)))
}

/// Checks for keys (none needs more than a look at the text).
pub(crate) fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// One record type, as the flags and the configuration file name it.
pub(crate) fn record_type(text: &str) -> Result<(), String> {
    let t = text.trim();
    let types = otsentry_engine::record_types();
    match types.contains(&t) {
        true => Ok(()),
        false => Err(format!("{t:?} is not an EVE record type ({})", types.join(", "))),
    }
}

pub(crate) fn size(text: &str) -> Result<(), String> {
    crate::eve::parse_size(text).map(drop)
}

pub(crate) const fn types_key(flag: &'static str, help: &'static str, orphan: &'static str) -> Key {
    Key { name: "types", flag, value_name: "TYPES", help, list: true, check: record_type, late: false, orphan }
}
