//! Writes a hostile flood for the memory budget's tests:
//! `gen-hostile KIND OUT.pcap [COUNT]`, KIND one of dnp3-fragments, tcp-gaps,
//! modbus-unanswered, source-thresholds (COUNT: flows or sources; the acceptance's by default).
use otsentry_pcapgen::hostile::{write_hostile, Hostile};
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(path)) = (args.first().and_then(|k| Hostile::from_name(k)), args.get(1)) else {
        let kinds: Vec<&str> = Hostile::ALL.iter().map(|h| h.name()).collect();
        eprintln!("usage: gen-hostile {} OUT.pcap [COUNT]", kinds.join("|"));
        std::process::exit(2);
    };
    let count = match args.get(2) {
        Some(n) => n.parse().unwrap_or_else(|_| {
            eprintln!("gen-hostile: COUNT must be a number, got {n:?}");
            std::process::exit(2);
        }),
        None => kind.default_count(),
    };
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let n = write_hostile(kind, count, &mut out)?;
    println!("{path}: {n} packets");
    Ok(())
}
