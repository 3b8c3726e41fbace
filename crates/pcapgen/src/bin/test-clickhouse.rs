//! A private ClickHouse server for benchmarks and manual checks, as the tests start
//! them: `test-clickhouse legacy|current DIR` prints its URL, then serves until its
//! stdin closes (or it is killed).
use otsentry_pcapgen::clickhouse::{Generation, TestServer};
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let generation = match args.get(1).map(String::as_str) {
        Some("legacy") => Generation::Legacy,
        Some("current") => Generation::Current,
        _ => {
            eprintln!("usage: test-clickhouse legacy|current DIR");
            std::process::exit(2);
        }
    };
    let Some(dir) = args.get(2) else {
        eprintln!("usage: test-clickhouse legacy|current DIR");
        std::process::exit(2);
    };
    let Some(server) = TestServer::start(generation, std::path::Path::new(dir)) else {
        std::process::exit(1);
    };
    println!("{}", server.url());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(server);
}
