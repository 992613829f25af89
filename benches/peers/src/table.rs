//! The output: a table of round-trip percentiles, or of stream rates, each row with its
//! ratio to the row that is ipcring's.

use hdrhistogram::Histogram;

/// Width of the first column.
const NAME: usize = 44;

/// Starts a table of round trips.
pub fn latency_header(what: &str) {
    println!("\n{what}  (ns; ratio: p50 / p50 of the first row)");
    println!(
        "{:<NAME$} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "mechanism", "samples", "min", "p50", "p99", "p99.9", "max", "ratio"
    );
}

/// A row of round trips; `base` is the p50 of the table's first row (none in that row).
pub fn latency_row(name: &str, h: &Histogram<u64>, base: Option<u64>) {
    let p50 = h.value_at_quantile(0.5);
    let ratio = base.map_or(String::new(), |b| format!("{:.2}x", p50 as f64 / b as f64));
    println!(
        "{name:<NAME$} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {ratio:>7}",
        h.len(),
        h.min(),
        p50,
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

/// Starts a table of streams.
pub fn rate_header(what: &str) {
    println!("\n{what}  (ratio: rate / rate of the ipcring row above)");
}

/// A row of a stream of `size`-byte messages at `rate` per second; `base` is the rate of
/// the ipcring row it is compared with (none in that row).
pub fn rate_row(name: &str, size: usize, rate: f64, base: Option<f64>) {
    let ratio = base.map_or(String::new(), |b| format!("{:.2}x", rate / b));
    println!(
        "{name:<NAME$} {:>5} B {:>8.2} Mmsg/s {:>7.0} MB/s {ratio:>7}",
        size,
        rate / 1e6,
        rate * size as f64 / 1e6
    );
}

/// A row of several runs of a stream of `size`-byte messages: their median rate and
/// range, the ratio of medians to `base`. Returns the median.
pub fn rates_row(name: &str, size: usize, rates: &mut [f64], base: Option<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let ratio = base.map_or(String::new(), |b| format!("{:.2}x", median / b));
    println!(
        "{name:<NAME$} {:>5} B {:>8.2} Mmsg/s {:>7.0} MB/s {ratio:>7}   ({:.1}-{:.1})",
        size,
        median / 1e6,
        median * size as f64 / 1e6,
        rates[0] / 1e6,
        rates[rates.len() - 1] / 1e6
    );
    median
}
