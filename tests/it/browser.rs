//! The pages in a real browser: `report.html` of Kazakhstan (few runs) and of the two tutorial
//! scenarios, the forensics page of Poland 2020 and the page of `tamga infer` on the tutorial,
//! laid out by headless Chromium (Debian's package) at 1400 px and at 390 px (a phone). Fails if
//! the document is wider than the viewport or any SVG or table sticks out of it (a table inside
//! a scrolling box counts as the box).
//!
//! How it measures: each page is embedded in the `srcdoc` of an iframe exactly W px wide (the
//! headless window cannot be narrower than 500 px, an iframe can), with a script appended to it
//! that reads the layout (`scrollWidth`, `getBoundingClientRect`) and writes what it found as
//! JSON into the outer document, which `--dump-dom` prints. The pages themselves need no script.
//! The browser missing FAILS the test (`.ci/run` installs it): a layout test that silently skips
//! proves nothing. `TAMGA_CHROMIUM` names another browser binary.

use crate::common::{election, scenario, tamga, tutorial};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The widths measured: a desktop window and a phone.
const WIDTHS: [u32; 2] = [1400, 390];

/// The Chromium binary: `TAMGA_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH.
pub fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("TAMGA_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "MISSING BROWSER: no `chromium` on the PATH; these tests lay the reports out in a real \
         browser and must not pass without one: `apt-get install -y chromium` (Debian), or set \
         TAMGA_CHROMIUM to a Chromium binary"
    );
}

/// Runs headless Chromium on `url` with the flags that work on a closed network (no sync, no
/// component updates, no background connections) and a fresh profile; returns stdout.
pub fn chromium_run(args: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium starts");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reads the layout inside the frame and appends `<pre id="measure-W">{json}</pre>` to the
/// outer document: the viewport width, the document's scroll width, how many SVGs and tables
/// there are, and each one that sticks out.
const MEASURE: &str = r#"<script>(function () {
  var d = document, W = d.documentElement.clientWidth, bad = [];
  var sw = d.documentElement.scrollWidth;
  if (sw > W) bad.push('the document is ' + sw + ' px wide');
  function scroller(e) {
    for (var c = e.parentElement; c && c !== d.body; c = c.parentElement) {
      var o = getComputedStyle(c).overflowX;
      if (o === 'auto' || o === 'scroll') return c;
    }
    return null;
  }
  var els = d.querySelectorAll('svg, table');
  for (var i = 0; i < els.length; i++) {
    var e = els[i], s = e.tagName === 'TABLE' ? scroller(e) : null;
    var r = (s || e).getBoundingClientRect();
    if (r.right > W + 0.5 || r.left < -0.5)
      bad.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' spans ' +
        Math.round(r.left) + ' to ' + Math.round(r.right) + ' px');
  }
  var p = parent.document.createElement('pre');
  p.id = 'measure-' + W;
  p.textContent = JSON.stringify({ width: W, scroll_width: sw, svgs: d.querySelectorAll('svg').length,
    tables: d.querySelectorAll('table').length, bad: bad });
  parent.document.body.appendChild(p);
})();</script>"#;

/// What the browser measured in one page at one width.
#[derive(Debug, serde::Deserialize)]
struct Measure {
    width: u32,
    scroll_width: u32,
    svgs: usize,
    tables: usize,
    bad: Vec<String>,
}

fn attr_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;")
}

/// Lays `html` out at each of [`WIDTHS`] and returns what was measured, per width.
fn measure(html: &str, dir: &Path, name: &str) -> Vec<Measure> {
    let body_end = html.rfind("</body>").expect("the page has a </body>");
    let inner = format!("{}{MEASURE}{}", &html[..body_end], &html[body_end..]);
    let mut outer = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0\">",
    );
    for w in WIDTHS {
        outer.push_str(&format!(
            "<iframe style=\"display:block;border:0;width:{w}px;height:900px\" srcdoc=\"{}\"></iframe>",
            attr_escape(&inner)
        ));
    }
    outer.push_str("</body></html>");
    let path = dir.join(format!("{name}-measure.html"));
    std::fs::write(&path, outer).unwrap();
    let dom = chromium_run(
        &["--window-size=1600,2000", "--dump-dom"],
        &format!("file://{}", path.display()),
    );
    WIDTHS
        .iter()
        .map(|w| {
            let tag = format!("<pre id=\"measure-{w}\">");
            let start = dom
                .find(&tag)
                .unwrap_or_else(|| panic!("{name}: no measurement at {w} px; the DOM:\n{dom}"))
                + tag.len();
            let end = start + dom[start..].find("</pre>").unwrap();
            let json = dom[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"))
        })
        .collect()
}

/// Asserts that `html` fits at every width, and that it has at least `svgs` charts and `tables`
/// tables (so that an empty page cannot pass).
fn assert_fits(html: &str, dir: &Path, name: &str, svgs: usize, tables: usize) {
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "{name}: no viewport meta"
    );
    let ms = measure(html, dir, name);
    let mut problems = Vec::new();
    for (m, w) in ms.iter().zip(WIDTHS) {
        assert_eq!(m.width, w, "{name}: the frame was not {w} px wide");
        assert!(
            m.svgs >= svgs && m.tables >= tables,
            "{name} at {w} px: {} SVGs and {} tables, expected at least {svgs} and {tables}",
            m.svgs,
            m.tables
        );
        for b in &m.bad {
            problems.push(format!("{name} at {w} px: {b}"));
        }
        if m.scroll_width > w {
            problems.push(format!("{name} at {w} px: scroll width {}", m.scroll_width));
        }
    }
    assert!(problems.is_empty(), "overflow:\n{}", problems.join("\n"));
}

/// `tamga run` of `scenario` with `args`, into `out`; returns report.html.
fn run_report(scenario: &Path, out: &Path, args: &[&str]) -> String {
    tamga()
        .arg("run")
        .arg(scenario)
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    std::fs::read_to_string(out.join("report.html")).unwrap()
}

#[test]
fn the_measure_catches_an_overflowing_page() {
    // the check itself: a fixed 900 px SVG and a wide table outside a scrolling box overflow at
    // 390 px, and the same page with the SVG scaled and the table in a scrolling box does not
    let dir = tempfile::tempdir().unwrap();
    let page = |svg: &str, table_box: &str| {
        format!(
            "<!DOCTYPE html><html><head><meta name=\"viewport\" content=\"width=device-width, \
             initial-scale=1\"></head><body>{svg}<div style=\"{table_box}\"><table><tr><td style=\
             \"white-space:nowrap\">{}</td></tr></table></div></body></html>",
            "wide ".repeat(200)
        )
    };
    let wide = page(
        "<svg id=\"s\" width=\"900\" height=\"10\" viewBox=\"0 0 900 10\"></svg>",
        "",
    );
    let ms = measure(&wide, dir.path(), "wide");
    assert!(ms[0].bad.iter().any(|b| b.starts_with("table")), "{ms:?}");
    assert!(ms[1].bad.iter().any(|b| b.starts_with("svg#s")), "{ms:?}");
    assert!(ms[1].scroll_width > 390);
    let fitting = page(
        "<svg id=\"s\" style=\"max-width:100%;height:auto\" width=\"900\" height=\"10\" \
         viewBox=\"0 0 900 10\"></svg>",
        "overflow-x:auto",
    );
    assert_fits(&fitting, dir.path(), "fitting", 1, 1);
}

#[test]
fn tutorial_reports_fit_a_desktop_and_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let html = run_report(&tutorial(), &dir.path().join("t"), &["--runs", "12"]);
    assert_fits(&html, dir.path(), "tutorial", 10, 3);
    let html = run_report(
        &scenario("tutorial-fraud.toml"),
        &dir.path().join("tf"),
        &["--runs", "12"],
    );
    // with the real station results' map, its numbers and the real regional column
    assert!(html.contains("<svg id=\"fingerprint-real\""));
    assert!(html.contains("real stations: turnout / "));
    assert_fits(&html, dir.path(), "tutorial-fraud", 10, 4);
    // every plot's numbers unfolded: their tables scroll inside their boxes too
    let open = unfold_numbers(&html);
    assert!(open.matches(" open>").count() >= 7);
    assert_fits(&open, dir.path(), "tutorial-fraud-numbers", 10, 4);
    // the fingerprints in 0.1 % cells: 1,217-pixel maps, side by side, scaled to the window
    let html = run_report(
        &scenario("tutorial-fraud.toml"),
        &dir.path().join("tff"),
        &["--runs", "12", "--fine-fingerprint"],
    );
    assert!(html.contains("<div class=\"pair fine\">"));
    assert_fits(&html, dir.path(), "tutorial-fraud-fine", 10, 4);
}

#[test]
fn kazakhstan_report_fits_a_desktop_and_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let html = run_report(
        &scenario("kazakhstan-2004.toml"),
        &dir.path().join("kz"),
        &["--runs", "4", "--path", "station"],
    );
    assert_fits(&html, dir.path(), "kazakhstan", 40, 10);
    // with every plot's numbers unfolded: 11 parties' seat counts, 11 histograms a variant
    let open = unfold_numbers(&html);
    assert!(open.matches("<details class=\"numbers\" open>").count() >= 30);
    assert_fits(&open, dir.path(), "kazakhstan-numbers", 40, 30);
}

/// `html` with every plot's *numbers* unfolded.
fn unfold_numbers(html: &str) -> String {
    html.replace(
        "<details class=\"numbers\">",
        "<details class=\"numbers\" open>",
    )
}

#[test]
fn a_report_on_real_station_results_fits_a_desktop_and_a_phone() {
    // Russia 2011: the real map of 95,225 stations beside the simulated ones, 84 regions with
    // their real figures, party names of 70 characters; within the size limit
    assert!(election("russia-2011-duma").exists());
    let dir = tempfile::tempdir().unwrap();
    let html = run_report(
        &scenario("russia-2011-duma.toml"),
        &dir.path().join("ru"),
        &["--runs", "2"],
    );
    // every row of the file read (95,226 lines with the header); the few inconsistent ones
    // (issued > registered, no ballots) left off the map as `tamga forensics` leaves them
    let at = html
        .find(" of the file's 95225 stations mapped")
        .expect("the file's rows");
    let mapped: usize = html[html[..at].rfind(' ').unwrap() + 1..at]
        .parse()
        .unwrap();
    assert!((95_000..=95_225).contains(&mapped), "{mapped}");
    assert_eq!(html.matches("<use href=\"#fingerprint-real\"/>").count(), 2);
    assert!(html.contains("real stations: turnout / "));
    assert!(html.len() < 1_500_000, "{} bytes", html.len());
    assert_fits(&html, dir.path(), "russia-2011", 80, 4);
}

#[test]
fn forensics_page_fits_a_desktop_and_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pl");
    tamga()
        .arg("forensics")
        .arg(election("poland-2020-president-r2"))
        .args(["--replicates", "2", "--digit-sims", "20", "--out"])
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_fits(&html, dir.path(), "forensics", 5, 1);
}

#[test]
fn infer_page_fits_a_desktop_and_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("t.toml");
    let text = std::fs::read_to_string(tutorial()).unwrap();
    std::fs::write(&toml, format!("{text}{}", crate::infer::INFERENCE)).unwrap();
    let json = dir.path().join("infer.json");
    tamga()
        .arg("infer")
        .arg(&toml)
        .args([
            "--fraud",
            "none,stuffing,stuffing+pressure",
            "--budget",
            "400",
        ])
        .args([
            "--particles",
            "40",
            "--synthetic",
            "stuffing.rate=0.2,pressure.share=0.1",
        ])
        .arg("--out")
        .arg(&json)
        .assert()
        .success();
    let html = std::fs::read_to_string(dir.path().join("infer.html")).unwrap();
    assert_fits(&html, dir.path(), "infer", 1, 6);
}
