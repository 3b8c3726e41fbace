//! Which rules a run uses (the built-in pack, a directory, none), with the site's
//! variables and tuning; `otsentry rules check` and `otsentry rules list`.
use crate::cli::RuleFiles;
use crate::report::say;
use crate::usage::UsageError;
use otsentry_engine::default_pack;
use otsentry_engine::RuleSet;
use otsentry_rules::{import_suricata, read_dir, read_file, RuleErrors, RuleSource, Sources};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a run's rules come from: the built-in pack (unless left out) and the site's
/// files beside it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleChoice {
    pub(crate) rules: Vec<PathBuf>,
    pub(crate) no_default: bool,
    pub(crate) none: bool,
    pub(crate) vars: Option<PathBuf>,
    pub(crate) tuning: Option<PathBuf>,
    /// A rule naming a set nothing defines or infers is an error, not a warning.
    pub(crate) strict: bool,
}

impl From<RuleFiles> for RuleChoice {
    fn from(f: RuleFiles) -> Self {
        RuleChoice { rules: f.rules, no_default: f.no_default_rules, none: false, vars: f.vars, tuning: f.tuning, strict: false }
    }
}

/// Reads and compiles the chosen files; every mistake in every file is reported.
pub(crate) fn load(c: &RuleChoice) -> Result<RuleSet, RuleErrors> {
    match sources(c)? {
        Some(s) => RuleSet::load(&s, otsentry_engine::schemas()),
        None => Ok(RuleSet::empty()),
    }
}

/// The sets a warm-up can infer.
pub(crate) const INFERRED: [&str; 3] = otsentry_engine::InferredSets::NAMES;

/// The rules' sources when a warm-up has something to infer: no variables file, and
/// rules waiting for a set it infers.
pub(crate) fn inferable(c: &RuleChoice, loaded: &RuleSet) -> Result<Option<Sources>, RuleErrors> {
    let waiting = loaded.listing().iter().any(|l| !l.disabled && l.missing.iter().any(|m| INFERRED.contains(&m.as_str())));
    if c.none || c.vars.is_some() || !waiting {
        return Ok(None);
    }
    sources(c)
}

/// The files a choice names, read (`None`: no rules).
fn sources(c: &RuleChoice) -> Result<Option<Sources>, RuleErrors> {
    if c.none {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let mut rules = if c.no_default { Vec::new() } else { default_pack() };
    for dir in &c.rules {
        match read_dir(dir) {
            Ok(files) => rules.extend(files),
            Err(e) => errors.extend(e.0),
        }
    }
    let mut one = |p: &Option<PathBuf>| p.as_deref().and_then(|p| read_file(p).map_err(|e| errors.push(e)).ok());
    let (vars, tuning) = (one(&c.vars), one(&c.tuning));
    if !errors.is_empty() {
        return Err(RuleErrors(errors));
    }
    Ok(Some(Sources { rules, vars, tuning }))
}

/// `otsentry rules check`.
pub(crate) fn check(files: RuleFiles) -> anyhow::Result<()> {
    if let Some(path) = &files.policy {
        let p = otsentry_engine::load_policy(path)?;
        say!("{}: {} zones, {} conduits ok", path.display(), p.zones.len() - 1, p.conduits.len());
    }
    if let Some(path) = &files.baseline {
        let (assets, pairs, values) = otsentry_engine::load_baseline(path)?.sizes();
        say!("{}: {assets} assets, {pairs} conversations, {values} written addresses ok", path.display());
    }
    let choice = RuleChoice::from(files);
    let set = load(&choice)?;
    let quiet: Vec<_> = set.listing().iter().filter(|l| !l.missing.is_empty() && !l.disabled).collect();
    let disabled = set.listing().iter().filter(|l| l.disabled).count();
    let mut from: Vec<String> = choice.rules.iter().map(|p| p.display().to_string()).collect();
    if !choice.no_default {
        from.insert(0, "the built-in pack".to_string());
    }
    let from = from.join(" + ");
    say!("{from}: {} rules ok, {} active, {disabled} disabled, {} waiting for variables", set.listing().len(), set.active(), quiet.len());
    for l in quiet {
        let inferred = l.missing.iter().all(|m| INFERRED.contains(&m.as_str()));
        let how = if inferred { "the variables file defines or a run's warm-up infers" } else { "the variables file defines" };
        say!("  {}: quiet until {how} ${}", l.id, l.missing.join(", $"));
    }
    Ok(())
}

/// `otsentry rules list`: the rules as a table on stdout.
pub(crate) fn list(files: RuleFiles) -> anyhow::Result<()> {
    let set = load(&RuleChoice::from(files))?;
    let mut out = std::io::stdout().lock();
    let rows: Vec<[String; 6]> = set
        .listing()
        .iter()
        .map(|l| {
            let vars =
                if l.vars.is_empty() { "-".to_string() } else { l.vars.iter().map(|v| format!("${v}")).collect::<Vec<_>>().join(" ") };
            let state = if l.disabled {
                "disabled (tuning)".to_string()
            } else if !l.missing.is_empty() {
                format!("quiet: no ${}", l.missing.join(", $"))
            } else {
                "active".to_string()
            };
            [l.id.to_string(), l.sid.to_string(), l.severity.as_str().to_string(), l.techniques.join(" "), vars, state]
        })
        .collect();
    let head = ["ID", "SID", "SEVERITY", "TECHNIQUES", "NEEDS", "STATE"];
    let widths: Vec<usize> = (0..head.len()).map(|i| rows.iter().map(|r| r[i].len()).chain([head[i].len()]).max().unwrap_or(0)).collect();
    let line = |cells: &[&str]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s
    };
    writeln!(out, "{}", line(&head))?;
    for r in &rows {
        writeln!(out, "{}", line(&r.iter().map(String::as_str).collect::<Vec<_>>()))?;
    }
    writeln!(out, "{} rules, {} active", rows.len(), set.active())?;
    Ok(())
}

/// `otsentry rules fields`: every event type's schema.
pub(crate) fn fields() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for schema in otsentry_engine::schemas().iter().copied().chain([&otsentry_core::ANOMALY_SCHEMA]) {
        writeln!(out, "{} events:", schema.event_type)?;
        for f in schema.fields {
            let group = f.group.and_then(|g| schema.groups.get(usize::from(g))).map(|g| format!("  each of {g}")).unwrap_or_default();
            let answered = if f.known == otsentry_core::Known::OnResponse { "  on the answer" } else { "" };
            let line = format!("  {:<40} {:<17}{group}{answered}", f.name, f.ty.as_str());
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    Ok(())
}

/// `otsentry rules import`: the converted file on stdout (or `out`), what did not
/// convert on stderr. The result is compiled before it is written, so what is written
/// loads.
pub(crate) fn import(file: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let source = read_file(file).map_err(|e| RuleErrors(vec![e]))?;
    let name = file.display().to_string();
    let imported = import_suricata(&name, &source.text, &otsentry_engine::suricata_events());
    for s in &imported.skipped {
        let sid = s.sid.map_or(String::new(), |sid| format!(" sid {sid}"));
        say!("{name}:{}:{sid}: skipped: {}", s.line, s.message);
    }
    for n in &imported.notes {
        let sid = n.sid.map_or(String::new(), |sid| format!(" sid {sid}"));
        say!("{name}:{}:{sid}: note: {}", n.line, n.message);
    }
    let target = out.map_or_else(|| PathBuf::from("<converted>"), Path::to_path_buf);
    if imported.converted > 0 {
        let rules = vec![RuleSource { file: target.clone(), text: imported.yaml.clone() }];
        RuleSet::load(&Sources { rules, vars: None, tuning: None }, otsentry_engine::schemas())?;
    }
    match out {
        Some(path) => std::fs::write(path, &imported.yaml).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        None => std::io::stdout().lock().write_all(imported.yaml.as_bytes())?,
    }
    say!("{name}: {} rules converted, {} skipped, {} notes", imported.converted, imported.skipped.len(), imported.notes.len());
    if imported.without_attack > 0 {
        say!("  {} converted rules name no ATT&CK technique: add them under `attack` (see the comments)", imported.without_attack);
    }
    Ok(())
}

/// Rules that name a host set no variables file defines and no warm-up infers (`warm`:
/// whether this run infers `INFERRED`): a warning each, or with `strict` an error.
pub(crate) fn undefined_sets(c: &RuleChoice, set: &RuleSet, warm: bool) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for l in set.listing().iter().filter(|l| !l.disabled) {
        let never: Vec<&str> = l.missing.iter().map(String::as_str).filter(|m| !(warm && INFERRED.contains(m))).collect();
        if !never.is_empty() {
            problems.push(format!(
                "{}: rule {} names ${}, which no variables file defines: it stays quiet",
                l.file.display(),
                l.id,
                never.join(", $")
            ));
        }
    }
    if c.strict && !problems.is_empty() {
        anyhow::bail!(UsageError(format!("--strict: {}", problems.join("; "))));
    }
    for p in problems {
        say!("otsentry: warning: {p}");
    }
    Ok(())
}

/// `otsentry rules export DIR`: the built-in pack's files, as they are compiled in.
pub(crate) fn export(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", dir.display()))?;
    for src in default_pack() {
        let name = src.file.file_name().map(PathBuf::from).unwrap_or_default();
        let path = dir.join(name);
        if path.exists() {
            say!("{}: already there, left alone", path.display());
            continue;
        }
        std::fs::write(&path, &src.text).map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
        say!("{}: written", path.display());
    }
    Ok(())
}
