//! Errors in rule, variables and tuning files: each names the file, line, column and
//! field, and the nearest valid name when one is close.
use std::fmt;
use std::path::PathBuf;

/// One mistake in one file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    pub file: PathBuf,
    /// 1-based; 0 when the whole file is at fault (unreadable, empty).
    pub line: usize,
    pub column: usize,
    /// The key at fault (`match.modbus.function`, `severity`), if one is.
    pub field: Option<String>,
    pub message: String,
    /// The nearest valid name, for a misspelt one.
    pub suggestion: Option<String>,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

/// Every error found in a set of files.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

pub(crate) use otsentry_core::nearest;

/// Finds where a key of a block-style YAML document sits, for errors found after
/// parsing (serde's own errors carry their location).
pub(crate) struct Locator<'t> {
    lines: Vec<&'t str>,
    /// First line (0-based) of each item of the top-level sequence.
    items: Vec<usize>,
}

impl<'t> Locator<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let items = lines.iter().enumerate().filter(|(_, l)| l.starts_with("- ") || **l == "-").map(|(i, _)| i).collect();
        Locator { lines, items }
    }

    /// Line and column (1-based) of `path` (nested keys) inside item `item` of the
    /// top-level sequence, or inside the whole document when `item` is `None`. Falls
    /// back to the deepest key found, then to the item's first line.
    pub(crate) fn find(&self, item: Option<usize>, path: &[&str]) -> (usize, usize) {
        let (from, to) = match item {
            Some(i) => (self.items.get(i).copied().unwrap_or(0), self.items.get(i + 1).copied().unwrap_or(self.lines.len())),
            None => (0, self.lines.len()),
        };
        let mut at = (from + 1, 1);
        let mut line = from;
        for key in path {
            let found = (line..to).find_map(|n| {
                let text = self.lines.get(n)?;
                let body = text.trim_start_matches([' ', '-']);
                let col = text.len() - body.len();
                let quoted = |q: char| body.strip_prefix(q).and_then(|b| b.strip_prefix(key)).is_some_and(|r| r.starts_with(q));
                (body.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with(':')) || quoted('"') || quoted('\'')).then_some((n, col))
            });
            match found {
                Some((n, col)) => {
                    at = (n + 1, col + 1);
                    line = n;
                }
                None => break,
            }
        }
        at
    }

    /// Line and column (1-based) of `key` in entry `n` (0-based) of the list under the
    /// top-level key `list` (a tuning file's `suppress:` entries); the list's line when
    /// the entry or key is not found.
    pub(crate) fn find_in_list(&self, list: &str, n: usize, key: &str) -> (usize, usize) {
        let Some(start) = self.lines.iter().position(|l| l.strip_prefix(list).is_some_and(|r| r.trim_start().starts_with(':'))) else {
            return (1, 1);
        };
        let mut entry = None;
        for (i, text) in self.lines.iter().enumerate().skip(start + 1) {
            let body = text.trim_start();
            if !text.starts_with(' ') && !text.starts_with('-') && !body.is_empty() && !body.starts_with('#') {
                break; // the next top-level key
            }
            if body.starts_with("- ") || body == "-" {
                entry = Some(entry.map_or(0, |e| e + 1));
            }
            if entry == Some(n) {
                let fields = body.trim_start_matches(['-', ' ']);
                if fields.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with(':')) {
                    return (i + 1, text.len() - fields.len() + 1);
                }
            }
        }
        (start + 1, 1)
    }

    /// Line and column (1-based) of the first occurrence of `needle` inside item `item`
    /// (a value a message quotes), if any.
    pub(crate) fn find_text(&self, item: usize, needle: &str) -> Option<(usize, usize)> {
        let from = self.items.get(item).copied()?;
        let to = self.items.get(item + 1).copied().unwrap_or(self.lines.len());
        (from..to).find_map(|n| self.lines.get(n)?.find(needle).map(|c| (n + 1, c + 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_find_their_field() {
        let names = ["modbus.function", "modbus.subfunction", "modbus.unit_id"];
        assert_eq!(nearest("modbus.fucntion", names), Some("modbus.function".into()));
        assert_eq!(nearest("modbus.unit", names), Some("modbus.unit_id".into()));
        assert_eq!(nearest("dnp3.iin", names), None);
    }

    #[test]
    fn keys_are_found_inside_their_item() {
        let text = "- id: a\n  match:\n    modbus.function: 8\n- id: b\n  match:\n    modbus.fucntion: 8\n";
        let l = Locator::new(text);
        assert_eq!(l.find(Some(1), &["match", "modbus.fucntion"]), (6, 5));
        assert_eq!(l.find(Some(0), &["match", "modbus.function"]), (3, 5));
        assert_eq!(l.find(Some(1), &["id"]), (4, 3));
        assert_eq!(l.find(Some(1), &["match", "absent"]), (5, 3), "the deepest key found");
    }
}
