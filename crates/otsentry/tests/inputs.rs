//! Every kind of input `otsentry replay` takes, each error a new user meets with its
//! message and exit code, the closed stdout, and the configuration file; all on
//! captures our builder writes. Zip and gzip files are made by Python's zipfile and gzip
//! modules, an implementation independent of ours.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otsentry"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run otsentry")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-inputs-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case).join("input.pcap")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The summary `replay -q --summary-json -` prints for `inputs` (with extra flags).
fn summary(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["replay", "-q", "--summary-json", "-"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(o.status.success(), "{all:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("one summary object")
}

/// What must not depend on how the capture reached us.
fn counts(v: &serde_json::Value) -> serde_json::Value {
    serde_json::json!([v["packets"], v["bytes"], v["decode_errors"], v["flows"], v["protocols"]])
}

fn python(script: &str, args: &[&Path]) {
    let o = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3 (scripts/deps checks it)");
    assert!(o.status.success(), "python3: {}", String::from_utf8_lossy(&o.stderr));
}

/// A zip archive at `zip` holding `members` (name, file, deflated?) in the order given.
fn make_zip(zip: &Path, members: &[(&str, &Path, bool)]) {
    let spec: Vec<String> = members.iter().map(|(n, p, d)| format!("{n}\t{}\t{}", p.display(), u8::from(*d))).collect();
    let list = zip.with_extension("list");
    std::fs::write(&list, spec.join("\n")).unwrap();
    python(
        "import sys, zipfile\n\
         with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
         \x20   for line in open(sys.argv[2]).read().splitlines():\n\
         \x20       name, path, deflate = line.split('\\t')\n\
         \x20       method = zipfile.ZIP_DEFLATED if deflate == '1' else zipfile.ZIP_STORED\n\
         \x20       with z.open(zipfile.ZipInfo(name), 'w', force_zip64=(name.endswith('64.pcap'))) as out:\n\
         \x20           out._compress_type = method\n\
         \x20           out.write(open(path, 'rb').read())\n",
        &[zip, &list],
    );
}

fn gzip(src: &Path, dst: &Path) {
    python("import sys, gzip, shutil\nshutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[2], 'wb'))", &[src, dst]);
}

#[test]
fn pipes_stdin_and_gzip_give_the_file_s_counts_with_both_readers() {
    let demo = fixture("demo");
    let want = counts(&summary(&[s(&demo)]));
    let d = dir("streams");
    let gz = d.join("demo.pcap.gz");
    gzip(&demo, &gz);
    for reader in ["mmap", "libpcap"] {
        assert_eq!(counts(&summary(&["--reader", reader, s(&demo)])), want, "{reader}: file");
        let v = summary(&["--reader", reader, s(&gz)]);
        assert_eq!(counts(&v), want, "{reader}: gzip");
        assert_eq!(v["inputs"][0]["container"], "gzip");
        for (arg, container) in [("-", "stdin"), ("/dev/stdin", "pipe")] {
            let mut child = bin()
                .args(["replay", "-q", "--reader", reader, "--summary-json", "-", arg])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let bytes = std::fs::read(if container == "stdin" { &gz } else { &demo }).unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
            let o = child.wait_with_output().unwrap();
            feeder.join().unwrap().unwrap();
            assert!(o.status.success(), "{reader} {arg}: {}", stderr(&o));
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(counts(&v), want, "{reader}: {arg} (stdin carries the gzip file)");
            assert_eq!((v["inputs"][0]["name"].as_str(), v["inputs"][0]["container"].as_str()), (Some(arg), Some(container)));
        }
    }
}

#[test]
fn zip_members_are_read_in_name_order_and_named_in_records() {
    let (demo, tunnels) = (fixture("demo"), fixture("tunnels"));
    let d = dir("zip");
    let readme = d.join("readme.txt");
    std::fs::write(&readme, "not a capture\n").unwrap();
    let gz = d.join("t.pcap.gz");
    gzip(&tunnels, &gz);
    let one = d.join("one.zip");
    make_zip(&one, &[("capture.pcap", &demo, true)]);
    let several = d.join("several.zip");
    make_zip(
        &several,
        &[("z/last.pcap", &demo, false), ("README.txt", &readme, true), ("b64.pcap", &tunnels, true), ("c.pcap.gz", &gz, false)],
    );
    for reader in ["mmap", "libpcap"] {
        let v = summary(&["--reader", reader, s(&one)]);
        assert_eq!(counts(&v), counts(&summary(&[s(&demo)])), "{reader}");
        let v = summary(&["--reader", reader, s(&several)]);
        let names: Vec<&str> = v["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
        let z = s(&several);
        assert_eq!(names, [format!("{z}!b64.pcap"), format!("{z}!c.pcap.gz"), format!("{z}!z/last.pcap")], "{reader}");
        assert_eq!(v["skipped_inputs"][0]["name"], format!("{z}!README.txt"));
        assert_eq!(v["decode"]["files_skipped"], 1);
        assert_eq!(v["packets"], 6 + 6 + 33, "{reader}");
    }
    let o = run(&["replay", "-q", "--eve", "-", s(&one)]);
    // Flows, alerts and anomalies name their capture; protocol records reach it through
    // their flow.
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flows: Vec<_> = lines.iter().filter(|l| l["event_type"] == "flow").collect();
    assert!(!flows.is_empty());
    for flow in flows {
        assert_eq!(flow["pcap_filename"], format!("{}!capture.pcap", s(&one)));
    }
}

#[test]
fn a_directory_gives_its_captures_in_name_order_and_skips_the_rest() {
    let d = dir("tree");
    std::fs::copy(fixture("tunnels"), d.join("b.pcap")).unwrap();
    std::fs::copy(fixture("demo"), d.join("a.cap")).unwrap();
    std::fs::write(d.join("a.log"), "#separator \\x09\n").unwrap();
    std::fs::write(d.join("empty"), "").unwrap();
    std::fs::create_dir_all(d.join("sub")).unwrap();
    gzip(&fixture("demo"), &d.join("sub/c.pcap.gz"));
    let v = summary(&[s(&d)]);
    let names: Vec<String> = v["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, [s(&d.join("a.cap")), s(&d.join("b.pcap"))]);
    let skipped: Vec<&str> = v["skipped_inputs"].as_array().unwrap().iter().map(|i| i["reason"].as_str().unwrap()).collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped.iter().any(|r| r.contains("--recursive")), "{skipped:?}");
    // A symbolic link back up is read once, not followed round for ever.
    std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
    let v = summary(&["--recursive", s(&d)]);
    assert_eq!(v["inputs"].as_array().unwrap().len(), 3);
    assert_eq!(v["packets"], 33 + 6 + 33);
    assert_eq!(v["decode"]["files_skipped"], 3, "{}", v["skipped_inputs"]);
    assert!(v["skipped_inputs"].to_string().contains("symbolic link loop"), "{}", v["skipped_inputs"]);
    // Skips are said on stderr unless -q.
    let o = run(&["replay", s(&d)]);
    assert!(stderr(&o).contains(&format!("skipped {}", s(&d.join("a.log")))), "{}", stderr(&o));
}

/// Runs `args`, expecting `code` and one stderr line that contains each of `want`.
fn fails(args: &[&str], code: i32, want: &[&str]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: wants {w:?}: {err}");
    }
    err
}

#[test]
fn each_error_has_one_cause_and_its_exit_code() {
    let d = dir("errors");
    let missing = d.join("missing.pcap");
    let err = fails(&["replay", "-q", s(&missing)], 2, &[s(&missing), "no such file or directory"]);
    assert!(!err.contains("os error"), "{err}");
    let empty_dir = d.join("logs");
    std::fs::create_dir_all(&empty_dir).unwrap();
    std::fs::write(empty_dir.join("conn.log"), "#fields\n").unwrap();
    fails(&["replay", "-q", s(&empty_dir)], 2, &["is a directory holding no capture", "--recursive"]);
    let text = d.join("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    let zip = d.join("docs.zip");
    make_zip(&zip, &[("notes.txt", &text, true)]);
    fails(&["replay", "-q", s(&zip)], 2, &["is a zip archive holding no capture", "notes.txt"]);
    let mut child = bin().args(["replay", "-q", "-"]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&zip).unwrap()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a zip archive, which is read from a file"), "{}", stderr(&o));
    for reader in ["mmap", "libpcap"] {
        fails(&["replay", "-q", "--reader", reader, s(&text)], 2, &["not a pcap or pcapng capture"]);
    }
    // Values that cannot work are refused by the parser (usage: exit 2).
    let demo = fixture("demo");
    for bad in [&["--max-flows", "0"][..], &["--max-flows", "x"], &["--app-port", "modbus=0"], &["--reader", "tshark"]] {
        let mut args = vec!["replay", "-q"];
        args.extend_from_slice(bad);
        args.push(s(&demo));
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(bad[0]), "{bad:?}: {}", stderr(&o));
    }
    // Outputs that cannot be written: exit 1, naming the path.
    let nowhere = d.join("no/such/dir/events.jsonl");
    fails(&["replay", "-q", "--eve", s(&nowhere), s(&demo)], 1, &[s(&nowhere), "cannot create"]);
    fails(&["replay", "-q", "--summary-json", s(&d), s(&demo)], 1, &[s(&d)]);
    let help = String::from_utf8(run(&["replay", "--help"]).stdout).unwrap();
    assert!(help.contains("Exit codes: 0 done") && help.contains("1 an output") && help.contains("2 bad input"), "{help}");
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_exit_0() {
    let demo = fixture("demo");
    // Enough copies that the reader is gone long before the writing ends.
    let mut args = vec!["replay".to_string(), "--eve".into(), "-".into()];
    args.extend(std::iter::repeat_n(s(&demo).to_string(), 200));
    let mut child = bin().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe") && !err.contains("error"), "{err}");
    assert!(first.starts_with(b"{\"timestamp\""));
}

#[test]
fn without_eve_the_user_is_told_where_events_are_and_q_is_silent() {
    let demo = fixture("demo");
    let o = run(&["replay", s(&demo)]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("add --eve FILE (or --eve - for stdout)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("read_holding_registers 6"), "names in the human summary: {}", stderr(&o));
    let o = run(&["replay", "-q", s(&demo)]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn the_configuration_file_sets_every_flag_and_flags_win() {
    let d = dir("config");
    let example = run(&["config", "example"]);
    assert!(example.status.success());
    let text = String::from_utf8(example.stdout).unwrap();
    // Every replay flag has a key of the same name in the example.
    let help = String::from_utf8(run(&["replay", "--help"]).stdout).unwrap();
    for flag in help.split_whitespace().filter_map(|w| w.strip_prefix("--")).map(|w| w.trim_end_matches(|c: char| !c.is_alphanumeric())) {
        if !["help", "config", "log-level", ""].contains(&flag) {
            assert!(text.contains(&format!("{flag}:")), "--{flag} has no key in the example");
        }
    }
    let example_file = d.join("example.yaml");
    std::fs::write(&example_file, &text).unwrap();
    let o = run(&["config", "check", s(&example_file)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A file that writes the summary and EVE; a flag redirects the summary.
    let (eve, sum, flag_sum) = (d.join("events.jsonl"), d.join("from-file.json"), d.join("from-flag.json"));
    let conf = d.join("otsentry.yaml");
    std::fs::write(&conf, format!("replay:\n  eve: {}\n  summary-json: {}\n  quiet: true\n  max-flows: 2\n", s(&eve), s(&sum))).unwrap();
    let demo = fixture("demo");
    let o = run(&["replay", "--config", s(&conf), "--summary-json", s(&flag_sum), s(&demo)]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", stderr(&o));
    assert!(!sum.exists() && flag_sum.exists());
    assert!(std::fs::read_to_string(&eve).unwrap().lines().count() >= 97, "EVE from the file's key");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&flag_sum).unwrap()).unwrap();
    assert!(v["streams"]["flows_evicted"].as_u64().unwrap() > 0, "max-flows 2 from the file evicts");
    assert_eq!(summary(&[s(&demo)])["streams"]["flows_evicted"], 0, "the default does not");
    // Mistakes name the file, the line and the key, and exit 2, in check and in replay.
    for (body, line, key) in [
        ("replay:\n  max-flows: 0\n", 2, "max-flows"),
        ("log-level: warn\nreplay:\n  evee: x\n", 3, "evee"),
        ("replay:\n  app-port:\n    - modbus=70000\n", 2, "app-port"),
        ("bogus: 1\n", 1, "bogus"),
    ] {
        let bad = d.join(format!("bad-{line}-{key}.yaml"));
        std::fs::write(&bad, body).unwrap();
        let at = format!(".yaml:{line}:");
        fails(&["config", "check", s(&bad)], 2, &[s(&bad), &at, key]);
        fails(&["replay", "--config", s(&bad), s(&demo)], 2, &[s(&bad), &at, key]);
    }
    fails(&["replay", "--config", s(&d.join("none.yaml")), s(&demo)], 2, &["none.yaml", "no such file or directory"]);
}
