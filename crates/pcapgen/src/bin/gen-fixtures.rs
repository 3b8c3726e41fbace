//! Writes `fixtures/<case>/input.pcap` for every case, and the fuzz targets' seeds under
//! `fuzz/corpus/`. Expected outputs are blessed by
//! `OTSENTRY_BLESS=1 cargo test -p otsentry-engine --test golden`.
use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    for case in otsentry_pcapgen::fixtures::CASES {
        let dir = root.join(case);
        std::fs::create_dir_all(&dir)?;
        let bytes = otsentry_pcapgen::fixtures::build(case).unwrap_or_default();
        std::fs::write(dir.join("input.pcap"), &bytes)?;
        println!("{}: {} bytes", dir.join("input.pcap").display(), bytes.len());
    }
    // The baseline fixture: an hour to learn from, and the capture checked against it.
    let dir = root.join("baseline");
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in [("learn.pcap", otsentry_pcapgen::baseline::learn()), ("input.pcap", otsentry_pcapgen::baseline::check())] {
        std::fs::write(dir.join(name), &bytes)?;
        println!("{}: {} bytes", dir.join(name).display(), bytes.len());
    }
    // The report's identities: devices saying who they are (MEI, SZL, DNP3 group 0).
    let path = root.join("report/identities.pcap");
    std::fs::create_dir_all(root.join("report"))?;
    std::fs::write(&path, otsentry_pcapgen::identities::fixture())?;
    println!("{}: written", path.display());
    let corpus = root.join("../fuzz/corpus/modbus_stream");
    std::fs::create_dir_all(&corpus)?;
    for (name, bytes) in otsentry_pcapgen::fuzzseeds::modbus_stream() {
        std::fs::write(corpus.join(name), bytes)?;
    }
    println!("{}: seeds written", corpus.display());
    let corpora = otsentry_pcapgen::fuzzseeds::dnp3_corpora().into_iter().chain(otsentry_pcapgen::fuzzseeds::s7_corpora());
    for (target, seeds) in corpora {
        let corpus = root.join("../fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        for (name, bytes) in seeds {
            std::fs::write(corpus.join(name), bytes)?;
        }
        println!("{}: seeds written", corpus.display());
    }
    Ok(())
}
