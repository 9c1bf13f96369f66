//! How numbers read on screen. One place, so that every panel writes a duration,
//! a count or an age the same way, and an absent value is never "NaN" or "0".

/// What is shown where a value is absent.
pub const ABSENT: &str = "—";

/// A duration in milliseconds: `420 µs`, `12.3 ms`, `1.23 s`, `2 min 05 s`.
pub fn duration_ms(value: Option<f64>) -> String {
    let Some(ms) = value.filter(|v| v.is_finite() && *v >= 0.0) else {
        return ABSENT.to_owned();
    };
    if ms == 0.0 {
        "0 ms".to_owned()
    } else if ms < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let seconds = (ms / 1000.0).round() as u64;
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    }
}

/// A count with thousands separators: `12,345`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A rate per second: `1,234/s`, `12.5/s`, `0.25/s`.
pub fn rate(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite() && *v >= 0.0) {
        None => ABSENT.to_owned(),
        Some(v) if v >= 100.0 => format!("{}/s", count(v.round() as u64)),
        Some(v) if v >= 10.0 => format!("{v:.1}/s"),
        Some(v) => format!("{v:.2}/s"),
    }
}

/// How long ago something happened: `just now`, `12 s ago`, `3 min ago`, `2 h ago`.
pub fn age(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 1.0 {
        return "just now".to_owned();
    }
    let s = seconds as u64;
    if s < 60 {
        format!("{s} s ago")
    } else if s < 3600 {
        format!("{} min ago", s / 60)
    } else {
        format!("{} h ago", s / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit_and_absent_is_a_dash() {
        assert_eq!(duration_ms(None), "—");
        assert_eq!(duration_ms(Some(f64::NAN)), "—");
        assert_eq!(duration_ms(Some(-1.0)), "—");
        assert_eq!(duration_ms(Some(0.0)), "0 ms");
        assert_eq!(duration_ms(Some(0.42)), "420 µs");
        assert_eq!(duration_ms(Some(2.555)), "2.56 ms");
        assert_eq!(duration_ms(Some(123.44)), "123.4 ms");
        assert_eq!(duration_ms(Some(11_454.49)), "11.45 s");
        assert_eq!(duration_ms(Some(125_000.0)), "2 min 05 s");
    }

    #[test]
    fn counts_rates_and_ages() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(rate(Some(1234.4)), "1,234/s");
        assert_eq!(rate(Some(12.46)), "12.5/s");
        assert_eq!(rate(Some(0.25)), "0.25/s");
        assert_eq!(rate(None), "—");
        assert_eq!(age(0.2), "just now");
        assert_eq!(age(12.7), "12 s ago");
        assert_eq!(age(185.0), "3 min ago");
        assert_eq!(age(7300.0), "2 h ago");
    }
}
