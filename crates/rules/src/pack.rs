//! Where rules come from: the default pack built into the binary (so an installed
//! binary has it), or a directory of rule files.
use crate::compile::RuleSource;
use crate::error::{RuleError, RuleErrors};
use std::path::{Path, PathBuf};

/// The pack's files in `rules/` that no protocol crate declares (each protocol's file
/// comes with its descriptor), as the binary was built with them.
const PACK: [(&str, &str); 5] = [
    ("anomalies.yaml", include_str!("../../../rules/anomalies.yaml")),
    ("network.yaml", include_str!("../../../rules/network.yaml")),
    ("policy.yaml", include_str!("../../../rules/policy.yaml")),
    ("baseline.yaml", include_str!("../../../rules/baseline.yaml")),
    ("health.yaml", include_str!("../../../rules/health.yaml")),
];

/// The default pack: `protocol_files` (the registered protocols', in order), then the
/// files of no protocol; each named `<built-in>/FILE` in errors.
pub fn default_pack<'f>(protocol_files: impl IntoIterator<Item = &'f (&'static str, &'static str)>) -> Vec<RuleSource> {
    protocol_files
        .into_iter()
        .chain(PACK.iter())
        .map(|(name, text)| RuleSource { file: PathBuf::from(format!("<built-in>/{name}")), text: (*text).to_string() })
        .collect()
}

fn whole_file(path: &Path, message: String) -> RuleError {
    RuleError { file: path.to_path_buf(), line: 0, column: 0, field: None, message, suggestion: None }
}

/// One file's text.
pub fn read_file(path: &Path) -> Result<RuleSource, RuleError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        whole_file(
            path,
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".into(),
                std::io::ErrorKind::IsADirectory => "is a directory, not a file".into(),
                std::io::ErrorKind::InvalidData => "not UTF-8 text".into(),
                _ => format!("cannot read: {e}"),
            },
        )
    })?;
    Ok(RuleSource { file: path.to_path_buf(), text })
}

/// Every `*.yaml` and `*.yml` file of a directory, by name; a single file is read as one.
pub fn read_dir(dir: &Path) -> Result<Vec<RuleSource>, RuleErrors> {
    if dir.is_file() {
        return read_file(dir).map(|s| vec![s]).map_err(|e| RuleErrors(vec![e]));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let message =
            if e.kind() == std::io::ErrorKind::NotFound { "no such file or directory".into() } else { format!("cannot read: {e}") };
        RuleErrors(vec![whole_file(dir, message)])
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(RuleErrors(vec![whole_file(dir, "holds no rule files (*.yaml, *.yml)".into())]));
    }
    let (ok, errs): (Vec<_>, Vec<_>) = paths.iter().map(|p| read_file(p)).partition(Result::is_ok);
    if !errs.is_empty() {
        return Err(RuleErrors(errs.into_iter().filter_map(Result::err).collect()));
    }
    Ok(ok.into_iter().filter_map(Result::ok).collect())
}
