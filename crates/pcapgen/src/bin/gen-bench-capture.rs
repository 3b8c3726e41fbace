//! Writes the synthetic plant capture used by the benchmarks:
//! `gen-bench-capture OUT.pcap [PACKETS]` (default 1,000,000 packets).
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: gen-bench-capture OUT.pcap [PACKETS]");
        std::process::exit(2);
    };
    let mut plant = otsentry_pcapgen::bench::Plant::default();
    if let Some(n) = args.next() {
        plant.packets = n.parse().unwrap_or_else(|_| {
            eprintln!("gen-bench-capture: PACKETS must be a number, got {n:?}");
            std::process::exit(2);
        });
    }
    let mut out = BufWriter::new(std::fs::File::create(&path)?);
    let n = otsentry_pcapgen::bench::write_plant(&plant, &mut out)?;
    println!("{path}: {n} packets");
    Ok(())
}
