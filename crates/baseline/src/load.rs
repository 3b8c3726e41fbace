//! Reading and writing baseline files. A mistake names the file, line and field
//! (`pairs[3].values[0].space`), and the file's format version is checked.
use crate::index::Baseline;
use crate::model::{BaselineFile, Function, Pair, Range, Values, FORMAT};
use otsentry_core::AppProto;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A mistake in a baseline file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}: {message}", file.display(), if *line > 0 { format!(":{line}:{}", column.max(&1)) } else { String::new() }, field.as_ref().map(|f| format!(": {f}")).unwrap_or_default())]
pub struct BaselineError {
    pub file: PathBuf,
    /// 1-based; 0 when the whole file is at fault.
    pub line: usize,
    /// 1-based; 0 when not known.
    pub column: usize,
    pub field: Option<String>,
    pub message: String,
}

/// Every mistake found in a baseline file, in the order of the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BaselineErrors(pub Vec<BaselineError>);

impl std::fmt::Display for BaselineErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Reads and indexes the baseline at `path`; `protocols` are the registered ones, which
/// its pairs and spaces may name.
pub fn load(path: &Path, protocols: &[AppProto]) -> Result<Baseline, BaselineErrors> {
    read(path, protocols).map(Baseline::new)
}

/// Reads the baseline file at `path`, as written.
pub fn read(path: &Path, protocols: &[AppProto]) -> Result<BaselineFile, BaselineErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BaselineErrors(vec![BaselineError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: None,
            message: format!("cannot read: {e}"),
        }])
    })?;
    parse(path, &text, protocols)
}

/// Parses baseline `text` (named `path` in errors), reporting every mistake it can find:
/// the file is read entry by entry (each asset, each pair and each of a pair's
/// functions, ranges and values), so one bad entry does not hide the next.
pub fn parse(path: &Path, text: &str, protocols: &[AppProto]) -> Result<BaselineFile, BaselineErrors> {
    crate::space::reading(protocols, || parse_known(path, text))
}

fn parse_known(path: &Path, text: &str) -> Result<BaselineFile, BaselineErrors> {
    // The common case, a good file, in one quick pass.
    if let Ok(file) = serde_json::from_str::<BaselineFile>(text) {
        if file.otsentry_baseline == FORMAT {
            return Ok(file);
        }
    }
    let mut c = Checker { path, text, errors: Vec::new() };
    let file = c.file();
    c.errors.sort_by_key(|e| (e.line, e.column));
    c.errors.dedup_by_key(|e| (e.line, e.column));
    match file {
        Some(file) if c.errors.is_empty() => Ok(file),
        _ => Err(BaselineErrors(c.errors)),
    }
}

const KEYS: [&str; 4] = ["otsentry_baseline", "learned", "assets", "pairs"];
const PAIR_LISTS: [&str; 3] = ["functions", "ranges", "values"];

struct Checker<'t> {
    path: &'t Path,
    text: &'t str,
    errors: Vec<BaselineError>,
}

impl<'t> Checker<'t> {
    fn file(&mut self) -> Option<BaselineFile> {
        let top: BTreeMap<String, &RawValue> = match serde_json::from_str(self.text) {
            Ok(top) => top,
            Err(e) => {
                self.error_at(0, (e.line(), e.column()), None, clean(&e.to_string()));
                return None;
            }
        };
        for key in top.keys().filter(|k| !KEYS.contains(&k.as_str())) {
            let at = self.text.find(&format!("\"{key}\"")).unwrap_or(0);
            let hint = otsentry_core::nearest(key, KEYS).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
            self.error(at, Some(key.clone()), format!("unknown key{hint}"));
        }
        for key in KEYS.iter().filter(|k| !top.contains_key(**k)) {
            self.error_at(0, (1, 1), Some(key.to_string()), "missing key".into());
        }
        let format: Option<u32> = top.get("otsentry_baseline").and_then(|r| self.entry(r, "otsentry_baseline"));
        if let (Some(found), Some(raw)) = (format, top.get("otsentry_baseline")) {
            if found != FORMAT {
                let at = self.offset(raw);
                self.error(at, Some("otsentry_baseline".into()), format!("format {found} is not one this build reads ({FORMAT})"));
            }
        }
        let learned = top.get("learned").and_then(|r| self.entry(r, "learned"));
        let assets = top.get("assets").and_then(|r| self.list(r, "assets", |c, raw, field| c.entry(raw, field)));
        let pairs = top.get("pairs").and_then(|r| self.list(r, "pairs", Checker::pair));
        Some(BaselineFile { otsentry_baseline: format?, learned: learned?, assets: assets?, pairs: pairs? })
    }

    /// Each element of the list at `raw`, checked one by one; `None` if any is bad.
    fn list<'r, T>(
        &mut self,
        raw: &'r RawValue,
        field: &str,
        mut each: impl FnMut(&mut Self, &'r RawValue, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items: Vec<&RawValue> = self.entry(raw, field)?;
        let mut out = Some(Vec::with_capacity(items.len()));
        for (i, item) in items.into_iter().enumerate() {
            match (each(self, item, &format!("{field}[{i}]")), out.as_mut()) {
                (Some(v), Some(out)) => out.push(v),
                _ => out = None,
            }
        }
        out
    }

    /// A pair; when it is bad, its functions, ranges and values are checked one by one
    /// too, so that every bad entry in them is named.
    fn pair(&mut self, raw: &RawValue, field: &str) -> Option<Pair> {
        let pair: Option<Pair> = self.entry(raw, field);
        if let Some(p) = &pair {
            for (i, r) in p.ranges.iter().enumerate().filter(|(_, r)| r.start > r.end) {
                let at = self.element_offset(raw, "ranges", i);
                self.error(at, Some(format!("{field}.ranges[{i}]")), format!("start {} is after end {}", r.start, r.end));
            }
            for (i, v) in p.values.iter().enumerate().filter(|(_, v)| v.min > v.max) {
                let at = self.element_offset(raw, "values", i);
                self.error(at, Some(format!("{field}.values[{i}]")), format!("min {} is above max {}", v.min, v.max));
            }
            return pair;
        }
        let Ok(fields) = serde_json::from_str::<BTreeMap<String, &RawValue>>(raw.get()) else { return None };
        for name in PAIR_LISTS {
            if let Some(list) = fields.get(name) {
                let path = format!("{field}.{name}");
                match name {
                    "functions" => self.list(list, &path, |c, r, f| c.entry::<Function>(r, f)).map(drop),
                    "ranges" => self.list(list, &path, |c, r, f| c.entry::<Range>(r, f)).map(drop),
                    _ => self.list(list, &path, |c, r, f| c.entry::<Values>(r, f)).map(drop),
                };
            }
        }
        None
    }

    /// One entry, its error placed in the file and named by its field path.
    fn entry<'r, T: Deserialize<'r>>(&mut self, raw: &'r RawValue, field: &str) -> Option<T> {
        let de = &mut serde_json::Deserializer::from_str(raw.get());
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(v) => Some(v),
            Err(e) => {
                let inner = e.path().to_string();
                let field = if inner == "." { field.to_string() } else { format!("{field}.{inner}") };
                let e = e.into_inner();
                let at = self.offset(raw);
                self.error_at(at, (e.line(), e.column()), Some(field), suggest(&clean(&e.to_string())));
                None
            }
        }
    }

    /// Where `raw` starts in the file: it is a slice of the file's text.
    fn offset(&self, raw: &RawValue) -> usize {
        (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize).min(self.text.len())
    }

    /// Where element `i` of list `name` in the object `raw` starts (the object's start if
    /// it cannot be found).
    fn element_offset(&self, raw: &RawValue, name: &str, i: usize) -> usize {
        let fields: BTreeMap<&str, &RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
        let items: Vec<&RawValue> = fields.get(name).and_then(|l| serde_json::from_str(l.get()).ok()).unwrap_or_default();
        items.get(i).map_or_else(|| self.offset(raw), |item| self.offset(item))
    }

    fn error(&mut self, at: usize, field: Option<String>, message: String) {
        let (line, column) = otsentry_core::line_and_column(self.text, at);
        self.errors.push(BaselineError { file: self.path.to_path_buf(), line, column, field, message });
    }

    /// An error at (line, column) within the slice starting at byte `start`.
    fn error_at(&mut self, start: usize, (line, column): (usize, usize), field: Option<String>, message: String) {
        let (start_line, start_column) = otsentry_core::line_and_column(self.text, start);
        let (line, column) =
            if line <= 1 { (start_line, start_column + column.saturating_sub(1)) } else { (start_line + line - 1, column) };
        self.errors.push(BaselineError { file: self.path.to_path_buf(), line, column, field, message });
    }
}

/// serde_json's message without its position (the error carries it).
fn clean(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_string()
}

/// "unknown field `x`, expected one of ..." becomes the nearest key, when one is near.
fn suggest(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else { return message.to_string() };
    let Some((name, expected)) = rest.split_once('`') else { return message.to_string() };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match otsentry_core::nearest(name, candidates.iter().copied()) {
        Some(n) => format!("unknown key `{name}` (did you mean `{n}`?)"),
        None => format!("unknown key `{name}` (keys: {})", candidates.join(", ")),
    }
}

/// The file's text: indented JSON in which every entry that holds only values (an
/// asset's MACs, a function, a range, a written address) is one line, so that a diff
/// of two baselines reads as the entries that changed.
pub fn to_text(file: &BaselineFile) -> String {
    let pretty = serde_json::to_string_pretty(file).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    // Per open container: where its first line is in `out`, and whether all it holds so
    // far is values.
    let mut open: Vec<(usize, bool)> = Vec::new();
    for line in pretty.lines() {
        let body = line.trim();
        let closes = body.starts_with('}') || body.starts_with(']');
        if closes {
            if let Some((at, flat)) = open.pop() {
                if flat {
                    let inner: Vec<String> = out.drain(at + 1..).map(|l| l.trim().to_string()).collect();
                    if let Some(head) = out.get_mut(at) {
                        let (o, c) = if head.ends_with('{') { (" ", " ") } else { ("", "") };
                        *head = format!("{head}{o}{}{c}{body}", inner.join(" "));
                    }
                    // A parent holding a one-line object is not flat (entries stay one per line).
                    if let (Some(parent), true) = (open.last_mut(), body.starts_with('}')) {
                        parent.1 = false;
                    }
                    continue;
                }
                if let Some(parent) = open.last_mut() {
                    parent.1 = false;
                }
            }
            out.push(line.to_string());
            continue;
        }
        out.push(line.to_string());
        if body.ends_with('{') || body.ends_with('[') {
            open.push((out.len() - 1, true));
        }
    }
    out.join("\n") + "\n"
}
