//! Decode + flows + TCP reassembly (+ protocol detection) over the synthetic plant capture
//! (1 M packets, 4,000 long-lived Modbus, DNP3 and S7comm sessions), next to
//! `tcpdump -r FILE -w /dev/null` on the same file in the same run: the floor this layer
//! must beat. "with dissectors" adds the protocol dissectors; "with dissectors and rules"
//! checks every event against the built-in rule pack (alerts only, no other output), so
//! the two together give what rules cost.
//!
//! `cargo bench -p otsentry-benches` (set `OTSENTRY_BENCH_PACKETS` for another size).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_engine::{Pipeline, PipelineOptions, RuleSet};
use otsentry_pcapgen::bench::{write_plant, Plant};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn capture(packets: u64) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("plant-{packets}.pcap"));
    if !path.exists() {
        let tmp = path.with_extension("partial");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("create capture"));
        let written = write_plant(&Plant { packets, ..Plant::default() }, &mut out).expect("write capture");
        drop(out);
        assert_eq!(written, packets);
        std::fs::rename(&tmp, &path).expect("rename capture");
    }
    path
}

fn pipeline(c: &mut Criterion) {
    let packets = std::env::var("OTSENTRY_BENCH_PACKETS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let path = capture(packets);
    let mut group = c.benchmark_group("plant");
    group.throughput(Throughput::Elements(packets));
    group.sample_size(20);
    let pack = otsentry_rules::Sources { rules: otsentry_engine::default_pack(), ..Default::default() };
    let pack = std::sync::Arc::new(RuleSet::load(&pack, otsentry_engine::schemas()).expect("the built-in pack"));
    let none = std::sync::Arc::new(RuleSet::empty());
    for (name, skip_dissectors, rules) in
        [("decode+flow+reassembly", true, &none), ("with dissectors", false, &none), ("with dissectors and rules", false, &pack)]
    {
        group.bench_function(name, |b| {
            b.iter(|| {
                let opts = PipelineOptions { skip_dissectors, rules: rules.clone(), ..Default::default() };
                let mut replay: Pipeline = Pipeline::new(opts, None);
                let report = replay.run_file(&path, &mut |_, _| {}).expect("replay");
                assert_eq!(report.packets, packets);
                replay.finish(0.0)
            })
        });
    }
    let tcpdump = Command::new("tcpdump").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    // As root, tcpdump hands its output file to its own user: /dev/null must stay root's.
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let user: &[&str] = if root { &["-Z", "root"] } else { &[] };
    if tcpdump {
        group.bench_function("tcpdump -r FILE -w /dev/null", |b| {
            b.iter(|| {
                let status =
                    Command::new("tcpdump").args(user).arg("-r").arg(&path).args(["-w", "/dev/null"]).stderr(Stdio::null()).status();
                assert!(status.is_ok_and(|s| s.success()));
            })
        });
    } else {
        eprintln!("tcpdump not installed: no floor measured (apt-get install tcpdump)");
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
