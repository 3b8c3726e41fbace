//! Outputs as a list: settings that cannot work are one line naming the setting (exit
//! 2); a receiver that does not answer at start stops the run without a spool and
//! waits in the spool with one, as ClickHouse does.
use std::path::{Path, PathBuf};
use std::process::Command;

fn otsentry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otsentry"))
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap").display().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-outputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run otsentry");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_output_settings_name_the_setting_and_exit_2() {
    let dir = scratch("bad");
    let demo = demo();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--cef".into(), "smtp://127.0.0.1:25".into()], "--cef"),
        (vec!["--cef".into(), "tcp://127.0.0.1".into()], "no port"),
        (
            vec!["--cef".into(), "tls://127.0.0.1:6514".into(), "--cef-ca".into(), "/nonexistent/ca.pem".into()],
            "--cef-ca: /nonexistent/ca.pem: no such file",
        ),
        (
            vec!["--cef".into(), "tcp://127.0.0.1:6514".into(), "--cef-ca".into(), demo.clone()],
            "--cef-ca: TLS files are for a tls:// receiver",
        ),
        (vec!["--cef-types".into(), "alert".into()], "--cef-types chooses what --cef gets: give --cef too"),
        (
            vec!["--cef".into(), "udp://127.0.0.1:514".into(), "--cef-spool".into(), dir.join("s").display().to_string()],
            "--cef-spool: UDP is at most once",
        ),
        (vec!["--cef".into(), "udp://127.0.0.1:514".into(), "--cef-framing".into(), "rfc9999".into()], "rfc5424 or rfc3164"),
        (vec!["--cef".into(), "udp://127.0.0.1:514".into(), "--cef-max-message".into(), "100".into()], "from 480 bytes"),
    ];
    for (args, want) in cases {
        let (code, err) = run(otsentry().args(["replay", "-q"]).args(&args).arg(&demo));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
        // One line says it (clap adds its hint to try --help beneath).
        assert!(err.lines().next().is_some_and(|l| l.contains(want)), "{args:?}: the first line: {err}");
    }
    // In the configuration file: the entry, its key and its line.
    let cfg = dir.join("bad.yaml");
    std::fs::write(
        &cfg,
        "replay:\n  outputs:\n    - eve: /tmp/x.json\n      types: [alert]\n    - syslog: udp://127.0.0.1:514\n    - cef: tls://127.0.0.1:6514\n      ca-file: /x\n",
    )
    .unwrap();
    let (code, err) = run(otsentry().args(["config", "check"]).arg(&cfg));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.yaml:5:7: replay.outputs[1].syslog: unknown output kind"), "{err}");
    assert!(err.contains("bad.yaml:7:7: replay.outputs[2].ca-file: not a key of the cef output (it takes cef, types, framing, max-message, facility, ca, cert, key, spool, spool-max)"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreachable_receiver_at_start_stops_the_run_or_waits_in_the_spool() {
    let dir = scratch("unreachable");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("relp://127.0.0.1:{closed}");
    let (code, err) = run(otsentry().args(["replay", "-q", "--cef", &url, &demo()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("cef:{url}")) && err.contains("--cef-spool DIR"), "{err}");
    let spool = dir.join("spool");
    let summary = dir.join("summary.json");
    let (code, err) =
        run(otsentry().args(["replay", "-q", "--cef", &url, "--cef-spool"]).arg(&spool).arg("--summary-json").arg(&summary).arg(demo()));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("records wait in the spool"), "{err}");
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let cef = s["outputs"].as_array().unwrap().iter().find(|o| o["name"] == format!("cef:{url}")).unwrap();
    assert!(cef["spool"]["pending_batches"].as_u64().unwrap() > 0, "{cef}");
    assert!(err.contains("stay in the spool"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
