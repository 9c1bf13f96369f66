//! How numbers read on screen. One place, so that every panel writes a duration,
//! a count or an age the same way, and an absent value is never "NaN" or "0".

/// What is shown where a value is absent.
pub const ABSENT: &str = "—";

/// Beyond this a number has no exact integer form in an f64 (2^53): such a value
/// is shown in scientific notation and called out of range, never as a saturated
/// integer.
pub const LARGEST_EXACT: f64 = 9_007_199_254_740_992.0;

/// A value too large to be a measurement, as `1.00e300 ms (out of range)`.
/// (Written with the fixed-point formatter: `{:e}` would add f64's exponent
/// formatting to the WASM bundle for this one message.)
fn out_of_range(value: f64, unit: &str) -> String {
    let (mut mantissa, mut exponent) = (value, 0_u32);
    while mantissa >= 10.0 {
        mantissa /= 10.0;
        exponent += 1;
    }
    // Rounding may carry to 10.00.
    if format!("{mantissa:.2}") == "10.00" {
        mantissa /= 10.0;
        exponent += 1;
    }
    format!("{mantissa:.2}e{exponent}{unit} (out of range)")
}

/// A duration in milliseconds: `420 µs`, `12.3 ms`, `1.23 s`, `2 min 05 s`.
pub fn duration_ms(value: Option<f64>) -> String {
    let Some(ms) = value.filter(|v| v.is_finite() && *v >= 0.0) else {
        return ABSENT.to_owned();
    };
    if ms > LARGEST_EXACT {
        out_of_range(ms, " ms")
    } else if ms == 0.0 {
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

/// A count that arrived as a number (a JSON value, a sum of figures): `12,345`,
/// absent when it is no count (negative, NaN), out of range when too large.
pub fn count_of(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite() && *v >= 0.0) {
        None => ABSENT.to_owned(),
        Some(v) if v > LARGEST_EXACT => out_of_range(v, ""),
        Some(v) => count(v.round() as u64),
    }
}

/// Characters that change the direction of the text around them (an RTL override
/// makes "gnp.exe" read "exe.png"): never shown.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text that came from a service, made safe to show: control and bidi characters
/// removed, white space runs folded to one space, and at most `max_chars`
/// characters (an ellipsis marks the cut).
pub fn display_text(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut shown = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if is_bidi_control(c) || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = shown > 0;
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if shown + needed > max_chars {
            // Keep room for the ellipsis within the bound.
            while shown >= max_chars && out.pop().is_some() {
                shown -= 1;
            }
            if out.ends_with(' ') {
                out.pop();
            }
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            shown += 1;
            pending_space = false;
        }
        out.push(c);
        shown += 1;
    }
    out
}

/// A rate per second: `1,234/s`, `12.5/s`, `0.25/s`.
pub fn rate(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite() && *v >= 0.0) {
        None => ABSENT.to_owned(),
        Some(v) if v > LARGEST_EXACT => out_of_range(v, "/s"),
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
    fn values_beyond_exact_integers_are_out_of_range_not_saturated() {
        assert_eq!(duration_ms(Some(1e300)), "1.00e300 ms (out of range)");
        assert_eq!(rate(Some(1e308)), "1.00e308/s (out of range)");
        assert_eq!(count_of(Some(1e20)), "1.00e20 (out of range)");
        assert_eq!(count_of(Some(9.999e20)), "1.00e21 (out of range)");
        assert_eq!(duration_ms(Some(f64::MAX)), "1.80e308 ms (out of range)");
        assert_eq!(count_of(Some(-3.0)), ABSENT);
        assert_eq!(count_of(Some(1234.0)), "1,234");
        // The largest exact value is still a plain figure.
        assert!(!duration_ms(Some(LARGEST_EXACT)).contains("range"));
        assert!(!rate(Some(1e15)).contains("range"));
    }

    #[test]
    fn service_text_is_bounded_and_loses_bidi_and_control_characters() {
        assert_eq!(display_text("1.0.0", 32), "1.0.0");
        assert_eq!(display_text("abc\u{202E}gnp.exe", 32), "abcgnp.exe");
        assert_eq!(display_text("a\u{2066}b\u{200F}c\u{0007}d", 32), "abcd");
        assert_eq!(display_text("  two\n\t words  ", 32), "two words");
        let long = "x".repeat(1_000_000);
        let shown = display_text(&long, 40);
        assert_eq!(shown.chars().count(), 40);
        assert!(shown.ends_with('…'));
        assert_eq!(display_text("abcdef", 3), "ab…");
        assert_eq!(display_text("abc", 3), "abc");
        assert_eq!(display_text("ab cd", 4), "ab…");
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
