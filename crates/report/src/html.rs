//! The report as one self-contained HTML page: its style, its data and its script are
//! inside it, so it opens on an air-gapped engineering laptop (no fetch, no external
//! script, style or font).
use crate::model::Report;

const STYLE: &str = include_str!("page/report.css");
const SCRIPT: &str = include_str!("page/report.js");

/// The page for `report`.
pub fn html(report: &Report) -> String {
    let data = crate::json(report);
    // Inside <script>, a "</" could end the element: JSON may write it "<\/".
    let data = data.replace("</", "<\\/").replace("<!--", "<\\u0021--");
    let title = match report.header.captures.as_slice() {
        [one] => format!("otsentry report: {}", escape(one)),
        [] => "otsentry report".to_string(),
        many => format!("otsentry report: {} captures", many.len()),
    };
    let mut page = String::with_capacity(data.len() + SCRIPT.len() + STYLE.len() + 4096);
    page.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing from elsewhere, ever: a browser following the policy refuses any fetch.
    page.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data: blob:\">\n");
    page.push_str(&format!("<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"));
    page.push_str(&format!("<header><h1>{title}</h1><div class=\"facts\"></div></header>\n"));
    page.push_str(BODY);
    page.push_str("<script id=\"report-data\" type=\"application/json\">");
    page.push_str(&data);
    page.push_str("</script>\n<script>\n");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

/// The sections the script fills.
const BODY: &str = include_str!("page/body.html");

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
