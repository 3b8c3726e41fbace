//! otsentry's visibility report: the asset inventory, the network map across zones,
//! alerts and conversations, as data ([`json`]), as an inventory table ([`inventory_csv`])
//! and as one self-contained HTML page ([`html`]). It knows no protocol and no engine:
//! the caller fills a [`Report`].
#![forbid(unsafe_code)]

mod html;
pub mod model;

pub use html::html;
pub use model::{Alert, Asset, Conversation, Header, Report, Zone, MAX_ALERTS, SEVERITIES};

/// The report as JSON (`--json`): `header`, `zones`, `assets`, `conversations`, `alerts`.
pub fn json(report: &Report) -> String {
    // Plain data of strings and numbers: it always serialises.
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

/// The asset table as CSV: a header line, then an asset per line.
pub fn inventory_csv(report: &Report) -> String {
    let quote = |s: &str| if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut out = String::from("ip,macs,vendor,role,zone,protocols,identity,first_seen,last_seen,alerts,max_severity\n");
    for a in &report.assets {
        let identity: Vec<String> = a.identity.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let fields = [
            a.ip.clone(),
            a.macs.join(" "),
            a.vendor.clone().unwrap_or_default(),
            a.roles.join(" "),
            a.zone.clone(),
            a.protocols.join(" "),
            identity.join("; "),
            a.first_seen.clone(),
            a.last_seen.clone(),
            a.alerts.to_string(),
            a.max_severity.clone().unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|f| quote(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            header: Header { otsentry_version: "0.1.0".into(), captures: vec!["a</script>.pcap".into()], ..Header::default() },
            zones: vec![Zone { name: "cell".into(), level: Some("1".into()), rank: 1 }],
            assets: vec![Asset {
                ip: "10.0.0.1".into(),
                role: "plc".into(),
                zone: "cell".into(),
                vendor: Some("Acme, \"Ltd\"".into()),
                ..Asset::default()
            }],
            ..Report::default()
        }
    }

    #[test]
    fn the_page_holds_its_data_and_script_and_fetches_nothing() {
        let page = html(&sample());
        // The data cannot end its script element early.
        let data = page.split("<script id=\"report-data\" type=\"application/json\">").nth(1).unwrap().split("</script>").next().unwrap();
        assert!(data.contains("a<\\/script>.pcap"), "{data}");
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["assets"][0]["ip"], "10.0.0.1");
        assert!(page.contains("<title>otsentry report: a&lt;/script&gt;.pcap</title>"));
        for external in ["src=\"http", "href=\"http", "@import", "url(http", "fetch(", "XMLHttpRequest"] {
            assert!(!page.contains(external), "{external}");
        }
    }

    #[test]
    fn the_inventory_csv_quotes_what_needs_it() {
        let csv = inventory_csv(&sample());
        assert_eq!(csv.lines().nth(1), Some("10.0.0.1,,\"Acme, \"\"Ltd\"\"\",,cell,,,,,0,"));
    }
}
