//! The pipeline as a live source feeds it: frames longer than the links carry whole are
//! counted apart (a receive offload merged them before capture; the veth pairs of the
//! sensor's own tests never produce one), and time passing without packets ends idle
//! flows.
use otsentry_capture::{LinkType, RawFrame};
use otsentry_core::Timestamp;
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_pcapgen::{eth_ip, ip_udp};

fn frame(ts: Timestamp, data: &[u8]) -> RawFrame<'_> {
    RawFrame { ts, linktype: LinkType::ETHERNET, origlen: data.len() as u32, data }
}

#[test]
fn frames_longer_than_the_link_carries_are_counted_apart() {
    let mut run = Pipeline::new(PipelineOptions::default(), None);
    // An MTU of 100 with the 22 bytes of an Ethernet header and two VLAN tags.
    run.set_max_frame(Some(122));
    let t = Timestamp::from_secs_nanos(1_768_464_000, 0);
    let small = eth_ip(&ip_udp("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &[0; 40]));
    let merged = eth_ip(&ip_udp("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &[0; 1400]));
    assert!(small.len() <= 122 && merged.len() > 122);
    run.frame(&frame(t, &small), 1);
    run.frame(&frame(t, &merged), 2);
    run.frame(&frame(t, &merged), 3);
    let s = run.finish(1.0);
    assert_eq!((s.packets, s.decode.oversize, s.decode_errors), (3, 2, 0), "counted, and still analysed");
    assert_eq!(s.flows, 1);
}

#[test]
fn time_alone_ends_idle_flows() {
    let mut run = Pipeline::new(PipelineOptions::default(), None);
    let t = Timestamp::from_secs_nanos(1_768_464_000, 0);
    let udp = eth_ip(&ip_udp("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &[0; 10]));
    run.frame(&frame(t, &udp), 1);
    run.tick(Timestamp(t.as_nanos() + 60 * 1_000_000_000));
    assert_eq!(run.snapshot(1.0).streams.active_flows, 1, "a UDP flow lives five minutes");
    run.tick(Timestamp(t.as_nanos() + 301 * 1_000_000_000));
    let s = run.snapshot(1.0);
    assert_eq!((s.streams.active_flows, s.streams.flows_timed_out), (0, 1), "ended by the tick, with no packet");
}
