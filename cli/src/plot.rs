//! `--plot FILE.svg`: the round-trip latency percentile distribution per mechanism.

use crate::report::Latency;
use plotters::prelude::*;
use std::io;
use std::path::Path;

/// Percentile axis labels at their `-log10(1 - q)` positions.
const TICKS: [(f64, &str); 6] = [
    (0.0, "0%"),
    (1.0, "90%"),
    (2.0, "99%"),
    (3.0, "99.9%"),
    (4.0, "99.99%"),
    (5.0, "99.999%"),
];

/// Draws one line per row (latency in ns, log scale, against the percentile).
pub fn draw(path: &Path, title: &str, rows: &[&Latency]) -> io::Result<()> {
    let lo = rows.iter().map(|r| r.ns[0]).min().unwrap_or(1).max(1) as f64;
    let hi = rows.iter().map(|r| r.ns[5]).max().unwrap_or(1).max(2) as f64;
    let root = SVGBackend::new(path, (1100, 700)).into_drawing_area();
    draw_on(&root, title, rows, lo / 1.5, hi * 1.5).map_err(io::Error::other)?;
    root.present().map_err(io::Error::other)
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    rows: &[&Latency],
    lo: f64,
    hi: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..5.2f64, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_labels(12)
        .x_label_formatter(&|x| {
            TICKS
                .iter()
                .find(|(at, _)| (at - x).abs() < 0.05)
                .map_or(String::new(), |(_, l)| (*l).to_owned())
        })
        .x_desc("percentile")
        .y_desc("round trip")
        .y_label_formatter(&|ns| crate::report::fmt_ns(*ns as u64))
        .draw()?;
    for (i, row) in rows.iter().enumerate() {
        let color = Palette99::pick(i).stroke_width(2);
        chart
            .draw_series(LineSeries::new(
                row.curve.iter().map(|&(x, ns)| (x, ns.max(1) as f64)),
                color,
            ))?
            .label(row.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
