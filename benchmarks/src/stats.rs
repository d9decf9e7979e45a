//! Medians, ranges and pair-by-pair ratios.

use std::time::Duration;

/// Samples of one measurement, in seconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    /// Adds a duration.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64());
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The median (mean of the middle two for an even count); NaN when empty.
    pub fn median(&self) -> f64 {
        median(&self.0)
    }

    /// The smallest and largest sample.
    pub fn range(&self) -> (f64, f64) {
        let v = self.sorted();
        (
            v.first().copied().unwrap_or(f64::NAN),
            v.last().copied().unwrap_or(f64::NAN),
        )
    }

    /// `median (min–max)` in seconds or milliseconds.
    pub fn time(&self) -> String {
        let (lo, hi) = self.range();
        if self.0.len() == 1 {
            return secs(self.median());
        }
        format!("{} ({}–{})", secs(self.median()), secs(lo), secs(hi))
    }
}

/// The median of `values`; NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

/// Ratios `a[i] / b[i]` of samples taken side by side, as `median (min–max)`.
pub fn ratio(a: &Samples, b: &Samples) -> String {
    let r: Vec<f64> = a.0.iter().zip(&b.0).map(|(x, y)| x / y).collect();
    let s = Samples(r);
    let (lo, hi) = s.range();
    if s.0.len() == 1 {
        return format!("{:.2}x", s.median());
    }
    format!("{:.2}x ({:.2}–{:.2})", s.median(), lo, hi)
}

/// The median ratio of `a[i] / b[i]`.
pub fn ratio_median(a: &Samples, b: &Samples) -> f64 {
    let r: Vec<f64> = a.0.iter().zip(&b.0).map(|(x, y)| x / y).collect();
    median(&r)
}

/// Seconds as `1.23 s` or `4.5 ms`.
pub fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// Bytes as `1.2 MB` (10^6) or `834 kB`.
#[allow(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
pub fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}
