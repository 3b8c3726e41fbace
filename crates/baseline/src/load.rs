//! Reading and writing baseline files. A mistake names the file, line and field
//! (`pairs[3].values[0].space`), and the file's format version is checked.
use crate::index::Baseline;
use crate::model::{BaselineFile, FORMAT};
use std::path::{Path, PathBuf};

/// A baseline file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}: {message}", file.display(), if *line > 0 { format!(":{line}") } else { String::new() }, field.as_ref().map(|f| format!(": {f}")).unwrap_or_default())]
pub struct BaselineError {
    pub file: PathBuf,
    /// 1-based; 0 when the whole file is at fault.
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// Reads and indexes the baseline at `path`.
pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    read(path).map(Baseline::new)
}

/// Reads the baseline file at `path`, as written.
pub fn read(path: &Path) -> Result<BaselineFile, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|e| BaselineError {
        file: path.to_path_buf(),
        line: 0,
        field: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Parses baseline `text` (named `path` in errors).
pub fn parse(path: &Path, text: &str) -> Result<BaselineFile, BaselineError> {
    // Quickly, and again with the path tracked only to name the field at fault.
    let file: BaselineFile = serde_json::from_str(text)
        .or_else(|_| {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de)
        })
        .map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            BaselineError { file: path.to_path_buf(), line: inner.line(), field: (field != ".").then_some(field), message }
        })?;
    if file.otsentry_baseline != FORMAT {
        let line = text.lines().position(|l| l.contains("\"otsentry_baseline\"")).map_or(0, |n| n + 1);
        let message = format!("format {} is not one this build reads ({FORMAT})", file.otsentry_baseline);
        return Err(BaselineError { file: path.to_path_buf(), line, field: Some("otsentry_baseline".into()), message });
    }
    Ok(file)
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
