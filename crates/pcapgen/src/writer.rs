//! pcap and pcapng writers into memory.

/// A classic pcap file.
pub struct PcapWriter {
    buf: Vec<u8>,
    big_endian: bool,
    nanos: bool,
}

impl PcapWriter {
    /// Little-endian, microsecond timestamps, snap length 65535.
    pub fn new(linktype: u32) -> Self {
        Self::with_options(linktype, 65_535, false, false)
    }

    pub fn with_options(linktype: u32, snaplen: u32, nanos: bool, big_endian: bool) -> Self {
        let mut w = PcapWriter { buf: Vec::new(), big_endian, nanos };
        let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        w.u32(magic);
        w.u16(2);
        w.u16(4);
        w.u32(0); // thiszone
        w.u32(0); // sigfigs
        w.u32(snaplen);
        w.u32(linktype);
        w
    }

    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&if self.big_endian { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    /// A record captured whole; `ts_ns` is nanoseconds since the epoch.
    pub fn packet(&mut self, ts_ns: u64, data: &[u8]) -> &mut Self {
        self.packet_cut(ts_ns, data, data.len())
    }

    /// A record of which only the first `caplen` bytes were captured.
    pub fn packet_cut(&mut self, ts_ns: u64, data: &[u8], caplen: usize) -> &mut Self {
        let kept = &data[..caplen.min(data.len())];
        let secs = (ts_ns / 1_000_000_000) as u32;
        let sub = (ts_ns % 1_000_000_000) as u32;
        self.u32(secs);
        self.u32(if self.nanos { sub } else { sub / 1000 });
        self.u32(kept.len() as u32);
        self.u32(data.len() as u32);
        self.buf.extend_from_slice(kept);
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Write out what is buffered and start an empty buffer, for captures too large
    /// to hold in memory.
    pub fn flush_to(&mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// A pcapng file (little-endian, one section).
pub struct PcapngWriter {
    buf: Vec<u8>,
    /// Timestamp units per second of each interface.
    units: Vec<u64>,
}

impl Default for PcapngWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapngWriter {
    pub fn new() -> Self {
        let mut w = PcapngWriter { buf: Vec::new(), units: Vec::new() };
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        w.block(0x0a0d_0d0a, &body);
        w
    }

    fn block(&mut self, btype: u32, body: &[u8]) {
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        self.buf.extend_from_slice(&btype.to_le_bytes());
        self.buf.extend_from_slice(&total.to_le_bytes());
        self.buf.extend_from_slice(body);
        self.buf.resize(self.buf.len() + padded - body.len(), 0);
        self.buf.extend_from_slice(&total.to_le_bytes());
    }

    /// Adds an interface; `tsresol` is the `if_tsresol` option byte (None: microseconds).
    pub fn interface(&mut self, linktype: u16, snaplen: u32, tsresol: Option<u8>) -> u32 {
        let mut body = Vec::new();
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&snaplen.to_le_bytes());
        let units = match tsresol {
            Some(r) => {
                body.extend_from_slice(&9u16.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&[r, 0, 0, 0]);
                body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
                if r & 0x80 == 0 {
                    10u64.pow(u32::from(r))
                } else {
                    1u64 << (r & 0x7f)
                }
            }
            None => 1_000_000,
        };
        self.block(1, &body);
        self.units.push(units);
        (self.units.len() - 1) as u32
    }

    /// An enhanced packet block.
    pub fn packet(&mut self, iface: u32, ts_ns: u64, data: &[u8]) -> &mut Self {
        let units = self.units.get(iface as usize).copied().unwrap_or(1_000_000);
        let ts = (u128::from(ts_ns) * u128::from(units) / 1_000_000_000) as u64;
        let mut body = Vec::new();
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        self.block(6, &body);
        self
    }

    /// A simple packet block (interface 0, no timestamp).
    pub fn simple_packet(&mut self, data: &[u8]) -> &mut Self {
        let mut body = (data.len() as u32).to_le_bytes().to_vec();
        body.extend_from_slice(data);
        self.block(3, &body);
        self
    }

    /// A block type readers must skip (here: a name resolution block with no records).
    pub fn other_block(&mut self) -> &mut Self {
        self.block(4, &[0, 0, 0, 0]);
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}
