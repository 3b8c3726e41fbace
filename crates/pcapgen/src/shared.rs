//! Locating the third-party captures in `../shared/pcaps` for tests. They are read in
//! place (zipped ones are unzipped to a temporary directory), never copied into the
//! repository.
use std::path::{Path, PathBuf};

/// One capture listed in the shared MANIFEST.md.
#[derive(Clone, Debug)]
pub struct SharedCapture {
    /// Path relative to the pcaps directory, as the MANIFEST names it.
    pub name: String,
    /// Readable capture path (for a `.zip`, the unzipped file).
    pub path: PathBuf,
    /// `capinfos -c` count from the MANIFEST.
    pub packets: u64,
    /// Marked MALFORMED/FUZZ in the MANIFEST.
    pub malformed: bool,
}

/// The shared pcaps directory: `$OTSENTRY_SHARED/pcaps`, else `../shared/pcaps` beside
/// the workspace. `None` when it is absent: the skip is then reported where a person
/// sees it (see [`report_suite`]). Under `CI=true` a missing directory is a failure,
/// so a CI run cannot pass without the third-party captures.
#[track_caller]
pub fn pcaps_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("OTSENTRY_SHARED") {
        Some(s) => PathBuf::from(s),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let dir = base.join("pcaps");
    if dir.join("MANIFEST.md").is_file() {
        report_suite(SuiteOutcome::Ran);
        return Some(dir);
    }
    let reason = format!("shared captures not found at {} (set OTSENTRY_SHARED)", dir.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true requires the third-party captures: {reason}");
    }
    report_suite(SuiteOutcome::Skipped(&reason));
    None
}

/// Whether a suite that needs `../shared` ran.
pub enum SuiteOutcome<'a> {
    Ran,
    Skipped(&'a str),
}

/// Reports a suite's outcome so that it survives `cargo test`'s output capture: a skip
/// goes straight to the process's stderr (the harness captures only the print macros),
/// and, when `OTSENTRY_SUITE_LOG` names a file (as `scripts/test` sets it), every
/// outcome is appended there as one tab-separated line for the run's closing report.
/// The suite is named by its package, test binary and test (cargo sets the package's
/// name when it runs a test; the harness names the thread after the test).
#[track_caller]
pub fn report_suite(outcome: SuiteOutcome<'_>) {
    use std::io::Write;
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| s.rsplit_once('-').map_or(s.clone(), |(name, _hash)| name.to_string()))
        .unwrap_or_default();
    let binary = match std::env::var("CARGO_PKG_NAME") {
        Ok(package) => format!("{}/{binary}", package.trim_start_matches("otsentry-")),
        Err(_) => binary,
    };
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").map_or_else(|| std::panic::Location::caller().to_string(), str::to_string);
    let line = match outcome {
        SuiteOutcome::Ran => format!("ran\t{binary}::{test}\t\n"),
        SuiteOutcome::Skipped(reason) => {
            let _ = writeln!(std::io::stderr(), "SKIP {binary}::{test}: {reason}");
            format!("skipped\t{binary}::{test}\t{reason}\n")
        }
    };
    if let Some(log) = std::env::var_os("OTSENTRY_SUITE_LOG") {
        // One short write per line with O_APPEND: lines from parallel tests stay whole.
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Every capture in the MANIFEST, zips unzipped under `scratch`.
pub fn captures(dir: &Path, scratch: &Path) -> Vec<SharedCapture> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).expect("read MANIFEST.md");
    let mut out = Vec::new();
    for line in manifest.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | file | protocol(s) | packets | bytes | link type | ... | attack / malformed |
        let (Some(name), Some(packets)) = (cells.get(1), cells.get(3)) else {
            continue;
        };
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng") || name.ends_with(".zip")) {
            continue;
        }
        let Ok(packets) = packets.replace(',', "").parse::<u64>() else {
            continue;
        };
        let malformed = line.contains("MALFORMED/FUZZ");
        let src = dir.join(name);
        let path = if name.ends_with(".zip") { unzip(&src, scratch) } else { src };
        out.push(SharedCapture { name: name.to_string(), path, packets, malformed });
    }
    assert!(out.len() >= 50, "MANIFEST parse found only {} captures", out.len());
    out
}

fn unzip(zip: &Path, scratch: &Path) -> PathBuf {
    let stem = zip.file_name().and_then(|n| n.to_str()).unwrap_or("capture.zip").trim_end_matches(".zip");
    let dest = scratch.join(stem);
    if !dest.exists() {
        std::fs::create_dir_all(scratch).expect("scratch dir");
        let out = std::process::Command::new("unzip").arg("-p").arg(zip).output().expect("run unzip (apt-get install unzip)");
        assert!(out.status.success(), "unzip {} failed", zip.display());
        std::fs::write(&dest, out.stdout).expect("write unzipped capture");
    }
    dest
}

/// A per-user scratch directory shared by test runs, so big zips are unzipped once.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join("otsentry-shared-unzipped")
}

/// Rows of a Zeek (or ICSNPP) TSV log beside a shared capture, as field → value maps.
pub fn zeek_log(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            rows.push(fields.iter().cloned().zip(line.split('\t').map(str::to_string)).collect());
        }
    }
    rows
}

/// tshark's view of a capture: how many values `count_field` takes (all occurrences in
/// all frames) and a histogram of `histogram_field`'s numeric values (decimal or 0x-hex).
pub fn tshark_count_and_histogram(path: &Path, count_field: &str, histogram_field: &str) -> (u64, std::collections::BTreeMap<u8, u64>) {
    let out = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-T", "fields", "-e", count_field, "-e", histogram_field, "-E", "occurrence=a"])
        .output()
        .expect("run tshark (scripts/deps installs it)");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let (mut count, mut hist) = (0, std::collections::BTreeMap::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut cols = line.split('\t');
        count += cols.next().unwrap_or("").split(',').filter(|s| !s.is_empty()).count() as u64;
        let parse = |c: &str| c.strip_prefix("0x").map_or_else(|| c.parse::<u8>().ok(), |h| u8::from_str_radix(h, 16).ok());
        for code in cols.next().unwrap_or("").split(',').filter_map(parse) {
            *hist.entry(code).or_default() += 1;
        }
    }
    (count, hist)
}
