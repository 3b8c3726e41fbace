//! The report in a real browser: Debian's headless Chromium opens a report made from
//! shared captures of Modbus, DNP3 and S7comm, and this test, through the DevTools
//! protocol (a small client of its own over a WebSocket), checks that every asset of
//! the JSON is a node of the map, visible inside the viewport, and a row of the
//! inventory; that filtering hides rows; that clicking a group node opens it; that the
//! console shows no error. It saves a screenshot.
use otsentry_pcapgen::cdp::{base64, Browser};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Why this test cannot run here: a visible skip, or a failure under `CI=true`.
fn unavailable(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true requires Chromium: {why}");
    }
    otsentry_pcapgen::shared::report_suite(otsentry_pcapgen::shared::SuiteOutcome::Skipped(why));
}

#[test]
fn every_asset_is_on_the_map_and_in_the_inventory_in_chromium() {
    let Some(shared) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    if Command::new("sh").args(["-c", "command -v chromium"]).output().map_or(true, |o| o.stdout.is_empty()) {
        unavailable("chromium not found (scripts/test installs Debian's chromium)");
        return;
    }
    let dir = scratch("shared");
    let (html, data) = (dir.join("report.html"), dir.join("report.json"));
    let o = Command::new(env!("CARGO_BIN_EXE_otsentry"))
        .args(["report", "-q", "-R"])
        .args(["s7comm", "modbus", "dnp3"].map(|p| shared.join(p)))
        .arg("--html")
        .arg(&html)
        .arg("--json")
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&data).unwrap()).unwrap();
    let ips: Vec<String> = report["assets"].as_array().unwrap().iter().map(|a| a["ip"].as_str().unwrap().to_string()).collect();
    assert!(ips.len() > 100, "{} assets", ips.len());
    for proto in ["modbus", "dnp3", "s7comm"] {
        assert!(
            report["assets"].as_array().unwrap().iter().any(|a| a["protocols"].as_array().unwrap().iter().any(|p| p == proto)),
            "no {proto} asset"
        );
    }

    let mut b = Browser::start(&dir);
    let page = &mut b.page;
    for domain in ["Runtime.enable", "Page.enable", "Log.enable"] {
        page.call(domain, json!({}));
    }
    page.call("Page.navigate", json!({"url": format!("file://{}", html.display())}));
    page.wait_for("Page.loadEventFired");

    // A group node opens on a real click at its centre.
    let groups = page.eval("document.querySelectorAll('#map .group').length").as_u64().unwrap();
    assert!(groups > 0, "510 assets in one band must make groups");
    let target = page.eval(
        "(() => { const m = document.getElementById('map'); m.scrollIntoView(); window.otsentryReport.fit(); \
         const g = document.querySelector('#map .group'); const r = g.getBoundingClientRect(); \
         return {key: g.dataset.group, x: r.x + r.width / 2, y: r.y + r.height / 2}; })()",
    );
    let key = target["key"].as_str().unwrap().to_string();
    for kind in ["mousePressed", "mouseReleased"] {
        page.call("Input.dispatchMouseEvent", json!({"type": kind, "x": target["x"], "y": target["y"], "button": "left", "clickCount": 1}));
    }
    let opened = page.eval(&format!("document.querySelector('#map .group[data-group=\"{key}\"]') === null"));
    assert_eq!(opened, json!(true), "clicking group {key} did not open it");

    // Every asset: a node with a box inside the map and the viewport, once every group
    // is open and the map fitted; and a row of the inventory.
    page.eval(
        "document.getElementById('expand-all').click(); document.getElementById('map').scrollIntoView(); window.otsentryReport.fit(); true",
    );
    let missing = page.eval(
        "(() => { const svg = document.getElementById('map').getBoundingClientRect(); const out = []; \
         for (const a of window.otsentryReport.data.assets) { \
           const n = document.querySelector(`#map [data-ip=\"${a.ip}\"]`); \
           if (!n) { out.push(a.ip + ': no node'); continue; } \
           const r = n.getBoundingClientRect(); \
           const inside = r.width > 0 && r.height > 0 && r.left >= svg.left - 1 && r.right <= svg.right + 1 && r.top >= svg.top - 1 && r.bottom <= svg.bottom + 1 \
             && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight; \
           if (!inside) out.push(a.ip + ': outside'); \
           if (!document.querySelector(`#inventory .row[data-key=\"${a.ip}\"]`)) out.push(a.ip + ': no row'); } \
         return out; })()",
    );
    assert_eq!(missing, json!([]), "assets not drawn or listed");
    let nodes = page.eval("document.querySelectorAll('#map .node').length").as_u64().unwrap();
    assert_eq!(nodes as usize, ips.len());

    // Filtering hides rows: an address shows its own row alone (and those it prefixes).
    let probe = ips.iter().find(|ip| ip.starts_with("192.168.")).unwrap_or(&ips[0]).clone();
    let shown = page.eval(&format!(
        "(() => {{ const f = document.getElementById('filter'); f.value = '{probe}'; f.dispatchEvent(new Event('input')); \
         const rows = [...document.querySelectorAll('#inventory .rows > .row')]; const vis = rows.filter(r => !r.hidden); \
         return {{ total: rows.length, visible: vis.length, all_match: vis.every(r => r.textContent.includes('{probe}')) }}; }})()"
    ));
    assert_eq!(shown["total"].as_u64().unwrap() as usize, ips.len());
    assert!(shown["visible"].as_u64().unwrap() >= 1 && (shown["visible"].as_u64().unwrap() as usize) < ips.len(), "{shown}");
    assert_eq!(shown["all_match"], json!(true));

    let shot = page.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let saved = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-report/report-shared.png");
    let _ = std::fs::create_dir_all(saved.parent().unwrap());
    std::fs::write(&saved, &png).unwrap();
    let errors = page.errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let _ = writeln!(
        std::io::stderr(),
        "report in chromium: {} assets drawn and listed ({groups} groups, one opened by a click), filter '{probe}' left {} rows; screenshot {}",
        ips.len(),
        shown["visible"],
        saved.display()
    );
    drop(b);
    let _ = std::fs::remove_dir_all(&dir);
}
