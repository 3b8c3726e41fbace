//! Rows per second into a server: an EVE file (as `replay --eve` writes it) sent through
//! the ClickHouse sink in batches of MiB (default 40: replay's 8 MiB batches as the sink
//! joins them when four wait in its queue, as they do when it falls behind).
//! `cargo run --release -p otsentry-clickhouse --example sink_rows -- URL EVE_FILE [MiB]`
use otsentry_clickhouse::{ClickHouseSink, Server, Settings};
use otsentry_sink::{Batch, RecordSink};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: sink_rows URL EVE_FILE");
        std::process::exit(2);
    };
    let batch_bytes = args.get(3).map_or(40, |m| m.parse::<usize>().expect("a size in MiB")) << 20;
    let text = std::fs::read_to_string(file).expect("read the EVE file");
    let mut batches = Vec::new();
    let mut lines: Vec<(&str, &str)> = Vec::new();
    let mut bytes = 0;
    for line in text.lines() {
        let ty = line.split("\"event_type\":\"").nth(1).and_then(|r| r.split('"').next()).expect("an EVE record");
        lines.push((ty, line));
        bytes += line.len() + 1;
        if bytes >= batch_bytes {
            batches.push(Batch::from_lines(lines.drain(..)));
            bytes = 0;
        }
    }
    batches.push(Batch::from_lines(lines.drain(..)));
    let rows: usize = batches.iter().map(Batch::records).sum();
    let catalog = otsentry_clickhouse::Catalog::new([
        &otsentry_proto_modbus::DESCRIPTOR,
        &otsentry_proto_dnp3::DESCRIPTOR,
        &otsentry_proto_s7comm::DESCRIPTOR,
    ]);
    let mut sink = ClickHouseSink::new(Server::new(Settings::from_url(url).expect("a ClickHouse URL"), catalog).expect("a client"));
    sink.check().expect("the server and its tables");
    let started = Instant::now();
    for b in &batches {
        sink.write(b).expect("a batch written");
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{rows} rows in {} batches, {secs:.2} s: {:.0} rows/s", batches.len(), rows as f64 / secs);
}
