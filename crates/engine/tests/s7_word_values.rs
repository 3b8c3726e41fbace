//! What a baseline learns of S7 writes: a word written by a byte-oriented client (item
//! transport size BYTE, two bytes, as Snap7's DBWrite sends a DBW) is one value, not two
//! bytes; a longer byte array is still bytes.
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_pcapgen::ot::{s7_pdu, tpkt_cotp};
use otsentry_pcapgen::session::Capture;

/// A write var job of `bytes` to DB1 at byte `address`, item transport size BYTE.
fn write(pdu_ref: u16, address: u32, bytes: &[u8]) -> Vec<u8> {
    let n = u16::try_from(bytes.len()).unwrap();
    let bit = (address << 3).to_be_bytes();
    let mut param = vec![0x05, 0x01, 0x12, 0x0A, 0x10, 0x02];
    param.extend_from_slice(&n.to_be_bytes()); // length in elements (bytes)
    param.extend_from_slice(&[0x00, 0x01, 0x84, bit[1], bit[2], bit[3]]); // DB1, data blocks, address
    let mut data = vec![0x00, 0x04];
    data.extend_from_slice(&(n * 8).to_be_bytes()); // BYTE/WORD/DWORD, length in bits
    data.extend_from_slice(bytes);
    tpkt_cotp(&s7_pdu(1, pdu_ref, &param, &data))
}

#[test]
fn a_word_written_as_two_bytes_is_one_value() {
    let mut c = Capture::new();
    let mut conn = c.connect("10.0.1.10:49152", "10.0.0.4:102");
    c.client(&mut conn, &write(1, 10, &[0x7F, 0xFF])); // DBW10 = 32767
    c.client(&mut conn, &write(2, 20, &[0x01, 0x02, 0x03])); // three bytes stay bytes
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("s7-word.pcap");
    std::fs::write(&path, c.into_bytes()).unwrap();
    let mut run = Pipeline::new(PipelineOptions { learn: Some(Default::default()), ..Default::default() }, None);
    run.run_file(&path, &mut |_, _| {}).unwrap();
    let (_, learner) = run.finish_learning(0.0);
    let file = learner.unwrap().finish(&otsentry_baseline::Vendors::default());
    let values: Vec<(u32, f64)> = file.pairs.iter().flat_map(|p| p.values.iter().map(|v| (v.address, v.min))).collect();
    assert!(values.contains(&(10, 32767.0)), "{values:?}");
    assert!(!values.iter().any(|&(a, _)| a == 11), "no second byte of the word: {values:?}");
    assert!(values.contains(&(20, 1.0)) && values.contains(&(22, 3.0)), "{values:?}");
}
