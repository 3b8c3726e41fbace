//! The workers' cheap address-pair read against the full decoder, on arbitrary frames
//! of both link types it takes: it never panics, and where it answers, the decoder
//! finds the same addresses and no tunnel.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let opts = otsentry_wire::DecodeOptions::default();
    for link in [1u32, 101] {
        let Some((src, dst, whole)) = otsentry_wire::ipv4_pair(link, data, opts.vxlan_port) else { continue };
        let mut pkt = otsentry_wire::Packet::empty();
        otsentry_wire::decode_into(link, data, data.len() as u32, &opts, &mut pkt);
        let ip = pkt.ip.expect("an address pair without IP");
        assert_eq!((ip.src, ip.dst), (std::net::IpAddr::from(src.to_be_bytes()), std::net::IpAddr::from(dst.to_be_bytes())));
        assert!(pkt.tunnel.is_none(), "a tunnel read as its outer pair");
        assert_eq!(whole, ip.fragment.is_none() && pkt.stop.is_none(), "{:?}", pkt.stop);
    }
});
