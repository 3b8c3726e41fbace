//! `report-timing REPORT.html [RUNS]`: how long Chromium (headless, through the DevTools
//! protocol) takes to load and draw the report page, and to filter its inventory, over
//! several runs (a fresh profile and page each time). For `benches/report.sh`. With
//! `REPORT_TIMING_DETAIL=1` it also prints, per run, how long the page's script took for
//! each part (its `otsentryReport.timings`), the parse and the first paint.
use otsentry_pcapgen::cdp::Browser;
use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(page), runs) = (args.next(), args.next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(5)) else {
        eprintln!("usage: report-timing REPORT.html [RUNS]");
        std::process::exit(2);
    };
    let page = std::fs::canonicalize(&page).unwrap_or_else(|e| panic!("{page}: {e}"));
    println!("run\tload_ms\tfilter_ms\tnodes\trows_shown\trows");
    for run in 1..=runs {
        let dir = std::env::temp_dir().join(format!("otsentry-report-timing-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut b = Browser::start(&dir);
        let p = &mut b.page;
        p.call("Page.enable", json!({}));
        p.call("Runtime.enable", json!({}));
        // From the navigation to the first frame drawn after the load event.
        let started = std::time::Instant::now();
        p.call("Page.navigate", json!({"url": format!("file://{}", page.display())}));
        p.wait_for("Page.loadEventFired");
        p.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))");
        let load_ms = started.elapsed().as_secs_f64() * 1000.0;
        if std::env::var_os("REPORT_TIMING_DETAIL").is_some() {
            eprintln!("{}", p.eval("JSON.stringify([window.otsentryReport.timings, performance.getEntriesByType('navigation')[0].domInteractive, performance.getEntriesByType('paint').map(e => [e.name, Math.round(e.startTime)])])"));
        }
        // Typing a filter: the rows hidden and the page laid out again, timed in the page.
        let r = p.eval(
            "(() => { const f = document.getElementById('filter'); const t0 = performance.now(); \
             f.value = '10.2.3.'; f.dispatchEvent(new Event('input')); document.body.offsetHeight; \
             const ms = performance.now() - t0; const rows = document.querySelectorAll('#inventory .rows > .row'); \
             return {ms, shown: [...rows].filter(r => !r.hidden).length, rows: rows.length, nodes: document.querySelectorAll('#map .node, #map .group').length}; })()",
        );
        let errors = p.errors();
        assert!(errors.is_empty(), "console errors: {errors:?}");
        println!("{run}\t{load_ms:.0}\t{:.1}\t{}\t{}\t{}", r["ms"].as_f64().unwrap_or(f64::NAN), r["nodes"], r["shown"], r["rows"]);
        drop(b);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
