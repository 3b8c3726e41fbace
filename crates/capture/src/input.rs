//! What the user names on the command line, turned into captures to read: files, pipes,
//! stdin, gzip-compressed captures, the captures inside zip archives, and directories of
//! any of these.
use crate::format::CaptureFormat;
use crate::zip::{self, ZipMember};
use crate::CaptureError;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where one capture's bytes come from.
#[derive(Clone, Debug)]
pub enum Location {
    /// A regular file holding pcap or pcapng (memory-mapped by the default reader).
    File(PathBuf),
    /// A gzip-compressed capture file.
    Gzip(PathBuf),
    /// A pipe, FIFO or device, read front to back (gzip recognised by its first bytes).
    Stream(PathBuf),
    /// Standard input, as a stream.
    Stdin,
    /// A member of a zip archive (itself possibly gzip-compressed).
    ZipMember { archive: PathBuf, member: ZipMember, gzip: bool },
}

/// One capture to read, with the name records and the summary give it: the path as the
/// user wrote it, `-` for stdin, `archive.zip!member` for a zip member.
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub location: Location,
}

impl Input {
    /// A capture file, named as its path is written.
    pub fn file(path: &Path) -> Input {
        Input { name: path.display().to_string(), location: Location::File(path.to_path_buf()) }
    }

    /// How the capture reaches us: `file`, `gzip`, `pipe`, `stdin` or `zip`.
    pub fn container(&self) -> &'static str {
        match self.location {
            Location::File(_) => "file",
            Location::Gzip(_) => "gzip",
            Location::Stream(_) => "pipe",
            Location::Stdin => "stdin",
            Location::ZipMember { .. } => "zip",
        }
    }
}

/// Something found in a directory or an archive that is not a capture, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The captures the arguments name, in order, and what was passed over.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub inputs: Vec<Input>,
    pub skipped: Vec<Skipped>,
}

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Capture(CaptureFormat),
    Gzip,
    Zip,
    Other,
}

fn kind_of(head: &[u8]) -> Kind {
    if let Some(f) = CaptureFormat::sniff(head) {
        return Kind::Capture(f);
    }
    match head {
        [0x1f, 0x8b, ..] => Kind::Gzip,
        [0x50, 0x4b, 0x03, 0x04, ..] | [0x50, 0x4b, 0x05, 0x06, ..] => Kind::Zip,
        _ => Kind::Other,
    }
}

/// Up to `n` first bytes of a stream.
pub(crate) fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        "empty".into()
    } else {
        format!("not a capture (first bytes {:02x?})", head.get(..4).unwrap_or(head))
    }
}

/// Expands the arguments: `-` is stdin; a directory gives every capture in it in name
/// order (subdirectories too with `recursive`), passing over what is not a capture; a
/// zip archive gives its captures in member-name order. A named file that is not a
/// capture, or a directory or archive holding none, is an error.
pub fn plan(args: &[PathBuf], recursive: bool) -> Result<Plan, CaptureError> {
    let mut plan = Plan::default();
    for arg in args {
        if arg.as_os_str() == "-" {
            plan.inputs.push(Input { name: "-".into(), location: Location::Stdin });
            continue;
        }
        let name = arg.display().to_string();
        let meta = std::fs::metadata(arg).map_err(|e| CaptureError::open(&name, e))?;
        if meta.is_dir() {
            let before = plan.inputs.len();
            let skipped_before = plan.skipped.len();
            walk(arg, recursive, &mut plan, &mut Vec::new())?;
            if plan.inputs.len() == before {
                let passed = plan.skipped.len() - skipped_before;
                return Err(CaptureError::DirectoryWithoutCapture { path: name, skipped: passed, recursive });
            }
            continue;
        }
        if !meta.is_file() {
            plan.inputs.push(Input { name, location: Location::Stream(arg.clone()) });
            continue;
        }
        let head =
            read_head(&mut File::open(arg).map_err(|e| CaptureError::open(&name, e))?, 4).map_err(|e| CaptureError::open(&name, e))?;
        match kind_of(&head) {
            Kind::Zip => {
                let (inputs, skipped) = zip_inputs(arg, &name)?;
                if inputs.is_empty() {
                    return Err(CaptureError::ZipWithoutCapture { path: name, detail: summarize(&skipped) });
                }
                plan.inputs.extend(inputs);
                plan.skipped.extend(skipped);
            }
            Kind::Gzip => plan.inputs.push(Input { name, location: Location::Gzip(arg.clone()) }),
            // The reader names what is wrong with anything else.
            Kind::Capture(_) | Kind::Other => plan.inputs.push(Input { name, location: Location::File(arg.clone()) }),
        }
    }
    Ok(plan)
}

fn summarize(skipped: &[Skipped]) -> String {
    match skipped {
        [] => "no members".into(),
        [one] => format!("{}: {}", one.name, one.reason),
        [first, rest @ ..] => format!("{}: {}; and {} more", first.name, first.reason, rest.len()),
    }
}

/// `seen` holds the directories on the way down, so a symbolic link back up is not
/// followed round for ever.
fn walk(dir: &Path, recursive: bool, plan: &mut Plan, seen: &mut Vec<PathBuf>) -> Result<(), CaptureError> {
    let dir_name = dir.display().to_string();
    let real = std::fs::canonicalize(dir).map_err(|e| CaptureError::open(&dir_name, e))?;
    if seen.contains(&real) {
        plan.skipped.push(Skipped { name: dir_name, reason: "a directory already being read (a symbolic link loop)".into() });
        return Ok(());
    }
    seen.push(real);
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(|e| CaptureError::open(&dir_name, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.display().to_string();
        let skip = |plan: &mut Plan, reason: String| plan.skipped.push(Skipped { name: name.clone(), reason });
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                skip(plan, crate::io_cause(&e));
                continue;
            }
        };
        if meta.is_dir() {
            if recursive {
                walk(&path, recursive, plan, seen)?;
            } else {
                skip(plan, "a directory (--recursive reads it too)".into());
            }
            continue;
        }
        if !meta.is_file() {
            skip(plan, "not a regular file".into());
            continue;
        }
        let found = match File::open(&path) {
            Ok(f) => classify(Box::new(f)),
            Err(e) => Err(crate::io_cause(&e)),
        };
        match found {
            Ok(Found::Capture { gzip: false }) => plan.inputs.push(Input { name, location: Location::File(path) }),
            Ok(Found::Capture { gzip: true }) => plan.inputs.push(Input { name, location: Location::Gzip(path) }),
            Ok(Found::Zip) => match zip_inputs(&path, &name) {
                Err(e) => skip(plan, e.to_string()),
                Ok((inputs, skipped)) if inputs.is_empty() => {
                    skip(plan, format!("a zip archive holding no capture ({})", summarize(&skipped)));
                }
                Ok((inputs, skipped)) => {
                    plan.inputs.extend(inputs);
                    plan.skipped.extend(skipped);
                }
            },
            Err(reason) => skip(plan, reason),
        }
    }
    seen.pop();
    Ok(())
}

/// What a file in a directory, or a zip member, holds when it is worth reading.
enum Found {
    Capture { gzip: bool },
    Zip,
}

/// Looks at a stream's first bytes, and through gzip: a capture, a zip archive, or the
/// reason it is neither (which is how it is reported as skipped).
fn classify(mut src: Box<dyn Read + Send>) -> Result<Found, String> {
    let head = read_head(&mut src, 4).map_err(|e| format!("unreadable: {e}"))?;
    match kind_of(&head) {
        Kind::Capture(_) => Ok(Found::Capture { gzip: false }),
        Kind::Zip => Ok(Found::Zip),
        Kind::Gzip => {
            let mut inner = flate2::read::MultiGzDecoder::new(io::Cursor::new(head).chain(src));
            let inner = read_head(&mut inner, 4).map_err(|e| format!("gzip-compressed, unreadable: {e}"))?;
            match CaptureFormat::sniff(&inner) {
                Some(_) => Ok(Found::Capture { gzip: true }),
                None => Err(format!("gzip-compressed, {}", describe(&inner))),
            }
        }
        Kind::Other => Err(describe(&head)),
    }
}

/// The captures in the zip archive at `path`, in member-name order, and the members
/// that are not captures.
fn zip_inputs(path: &Path, name: &str) -> Result<(Vec<Input>, Vec<Skipped>), CaptureError> {
    let mut members = zip::members(path).map_err(|e| CaptureError::BadZip { path: name.into(), reason: e.to_string() })?;
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let (mut inputs, mut skipped) = (Vec::new(), Vec::new());
    for member in members.into_iter().filter(|m| !m.is_directory()) {
        let member_name = format!("{name}!{}", member.name);
        let found = match member.unreadable() {
            Some(why) => Err(why),
            None => zip::open_member(path, &member).map_err(|e| format!("unreadable: {e}")).and_then(classify),
        };
        match found {
            Ok(Found::Capture { gzip }) => {
                inputs.push(Input { name: member_name, location: Location::ZipMember { archive: path.to_path_buf(), member, gzip } });
            }
            Ok(Found::Zip) => skipped.push(Skipped { name: member_name, reason: "a zip archive inside the archive (not read)".into() }),
            Err(reason) => skipped.push(Skipped { name: member_name, reason }),
        }
    }
    Ok((inputs, skipped))
}
