//! What a report holds, as `--json` writes it and the page reads it: plain data, filled
//! by whoever watched the traffic (the engine's learner, the alerts, the policy).
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub header: Header,
    /// The policy's zones, or (without one) bands by inferred role; highest level first.
    pub zones: Vec<Zone>,
    pub assets: Vec<Asset>,
    pub conversations: Vec<Conversation>,
    pub alerts: Vec<Alert>,
    /// Alerts not listed one by one (beyond [`MAX_ALERTS`]), still counted in the chart.
    pub alerts_not_listed: u64,
}

/// Alerts listed one by one; the rest are counted.
pub const MAX_ALERTS: usize = 10_000;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Header {
    pub otsentry_version: String,
    pub captures: Vec<String>,
    /// First and last packet (RFC 3339).
    pub from: Option<String>,
    pub to: Option<String>,
    pub packets: u64,
    pub pdus: u64,
    /// Bytes the capture missed, as a share of what the flows carried (SPAN drops).
    pub capture_loss_pct: f64,
    /// Whether the zones come from a policy (else from inferred roles).
    pub policy: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Zone {
    pub name: String,
    /// Purdue level (`4`, `3`, `dmz`, ...), none for the addresses in no zone.
    pub level: Option<String>,
    /// Where the band is drawn: higher first.
    pub rank: i32,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Asset {
    pub ip: String,
    pub macs: Vec<String>,
    /// From the MAC's maker; only where that MAC serves this address alone (every host
    /// behind a router carries the router's MAC).
    pub vendor: Option<String>,
    /// The role that places it: engineering, master, plc, outstation, or other.
    pub role: String,
    pub roles: Vec<String>,
    /// What the device said of itself: Modbus MEI (vendor, product code, revision), S7
    /// SZL 0x0011/0x001C (order number, module, serial, firmware), DNP3 group 0.
    pub identity: BTreeMap<String, String>,
    pub protocols: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub zone: String,
    pub alerts: u64,
    pub max_severity: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Conversation {
    pub client: String,
    pub server: String,
    pub protocol: String,
    pub requests: u64,
    /// Requests by function class (read, write, program, control, diagnostic,
    /// identification, management).
    pub classes: BTreeMap<String, u64>,
    /// Requests by function name, most first.
    pub functions: Vec<(String, u64)>,
    pub first_seen: String,
    pub last_seen: String,
    /// The policy forbids it (a segmentation alert was raised on it).
    pub forbidden: bool,
    pub alerts: u64,
    pub max_severity: Option<String>,
    /// The median time from a request to its answer (to within 10 %), where the
    /// protocol's dissector times answers (Modbus, DNP3, S7 jobs).
    pub response_ms: Option<f64>,
    /// Bytes the capture missed on its flows, as a share of what they carried, where
    /// SPAN drops were seen.
    pub loss_pct: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Alert {
    pub timestamp: String,
    pub severity: String,
    pub rule_id: String,
    pub signature: String,
    pub techniques: Vec<String>,
    pub src: String,
    pub dst: String,
    pub protocol: String,
    /// What matched (the PDU's function and fields).
    pub detail: String,
}

/// The severities, least first (the page colours and orders by them).
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// The worse of two severities by [`SEVERITIES`].
pub fn worse(a: Option<String>, b: &str) -> Option<String> {
    let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s);
    match a {
        Some(a) if rank(&a) >= rank(b) => Some(a),
        _ => Some(b.to_string()),
    }
}
