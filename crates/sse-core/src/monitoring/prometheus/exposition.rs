//! The Prometheus text exposition format 0.0.4, read without panicking and with
//! bounded memory: `# HELP` / `# TYPE` lines, other comments, samples with
//! labels (escapes `\\`, `\"`, `\n`), `+Inf` / `-Inf` / `NaN` values, optional
//! timestamps, families in any order and samples of one family spread over the
//! text. A line that is not valid is left out and named in [`Exposition::problems`];
//! a text that holds no sample at all is refused with the reason.
//!
//! Why not a crate: `prometheus-parse` splits label lists on `,` and `=` (a value
//! holding either is misread) and brings `regex` with Unicode tables and `chrono`
//! into the WASM bundle; `prom_text_format_parser` stops at the first bad line and
//! wants each family's lines together. This reader is about 300 lines.

use std::collections::BTreeMap;

/// The most text read: a scrape above it is refused, not parsed.
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;
/// The most samples kept; the rest are counted and named as a problem.
pub const MAX_SAMPLES: usize = 200_000;
/// A line longer than this is left out (labels that large are no measurement).
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// Bad lines named one by one in [`Exposition::problems`]; the rest are counted.
pub const PROBLEMS_KEPT: usize = 5;
/// More bad lines than this and no sample: the text is no exposition.
const BAD_LINES_BEFORE_GIVING_UP: usize = 10_000;

/// Names to positions in a `Vec`: the one map type of the Prometheus code
/// (every other key or value type would add its own B-tree code to the WASM).
#[derive(Debug, Default)]
pub(crate) struct Index(BTreeMap<String, usize>);

impl Index {
    /// Where `key` is, or `next` when it is new (then `true`).
    pub(crate) fn slot(&mut self, key: &str, next: usize) -> (usize, bool) {
        if let Some(&at) = self.0.get(key) {
            return (at, false);
        }
        self.0.insert(key.to_owned(), next);
        (next, true)
    }

    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        self.0.get(key).copied()
    }

    /// The keys in order, with their positions.
    pub(crate) fn sorted(&self) -> impl Iterator<Item = (&str, usize)> {
        self.0.iter().map(|(k, &at)| (k.as_str(), at))
    }
}

/// A metric family's declared type (`untyped` where no `# TYPE` line names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl MetricType {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "summary" => Self::Summary,
            "untyped" => Self::Untyped,
            _ => return None,
        })
    }

    /// The sample-name suffixes that belong to a family of this type.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Self::Histogram => &["_bucket", "_count", "_sum", "_created"],
            Self::Summary => &["_count", "_sum", "_created"],
            Self::Counter => &["_created"],
            _ => &[],
        }
    }
}

/// Label pairs, sorted by name (so equal label sets compare equal).
pub type Labels = Vec<(String, String)>;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's own name (`x_bucket` for a bucket of histogram `x`).
    pub name: String,
    pub labels: Labels,
    pub value: f64,
    /// Milliseconds since the epoch, when the line carries one.
    pub timestamp_ms: Option<i64>,
}

impl Sample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A metric family: its samples, wherever they stood in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: MetricType,
    pub help: Option<String>,
    pub samples: Vec<Sample>,
}

/// Why a text is no exposition at all.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpositionError {
    /// The text is larger than [`MAX_TEXT_BYTES`].
    TooLarge { bytes: usize },
    /// The text is an HTML page (a proxy's error page, a login page).
    Html,
    /// Not one sample could be read; the first bad line is named.
    NoSamples { first_problem: Option<String> },
}

impl std::fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge { bytes } => write!(
                f,
                "the metrics answer is {:.1} MB, more than the {} MB the dashboard reads",
                *bytes as f64 / 1e6,
                MAX_TEXT_BYTES / (1024 * 1024)
            ),
            Self::Html => f.write_str(
                "the metrics answer is an HTML page, not Prometheus text (a proxy's error page?)",
            ),
            Self::NoSamples {
                first_problem: Some(problem),
            } => write!(f, "the metrics answer is not Prometheus text: {problem}"),
            Self::NoSamples {
                first_problem: None,
            } => f.write_str("the metrics answer holds no sample"),
        }
    }
}

/// A parsed exposition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// In the order their first line appeared.
    pub families: Vec<Family>,
    /// The first [`PROBLEMS_KEPT`] bad lines, each as "line N: why".
    pub problems: Vec<String>,
    /// Every bad line, named or not.
    pub bad_lines: usize,
    /// The text ended without a newline: its last line was left out (cut off?).
    pub truncated: bool,
    /// Samples beyond [`MAX_SAMPLES`], not kept.
    pub samples_dropped: usize,
}

/// A line as read, before its family is known.
enum Line<'a> {
    Help(&'a str, String),
    Type(&'a str, MetricType),
    Sample(Sample),
    Skip,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

fn is_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn is_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|c| is_name_char(*c))
}

/// A cursor over one line.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_blanks(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let end = self
            .rest
            .bytes()
            .position(|c| !keep(c))
            .unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn token(&mut self) -> &'a str {
        self.skip_blanks();
        self.take_while(|c| c != b' ' && c != b'\t')
    }

    /// A quoted label value with its escapes undone.
    fn quoted(&mut self) -> Result<String, &'static str> {
        if !self.eat('"') {
            return Err("a label value must be quoted");
        }
        let mut value = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err("a label value has an unknown escape"),
                },
                c => value.push(c),
            }
        }
        Err("a label value is not closed")
    }

    fn labels(&mut self) -> Result<Labels, &'static str> {
        let mut labels = Labels::new();
        loop {
            self.skip_blanks();
            if self.eat('}') {
                break;
            }
            let name = self.take_while(|c| c.is_ascii_alphanumeric() || c == b'_');
            if !is_label_name(name) {
                return Err("a label name is not valid");
            }
            self.skip_blanks();
            if !self.eat('=') {
                return Err("a label has no '='");
            }
            self.skip_blanks();
            let value = self.quoted()?;
            // Kept sorted by name as they come (no sort routine in the WASM).
            let at = labels.partition_point(|(n, _)| n.as_str() < name);
            if labels.get(at).is_some_and(|(n, _)| n == name) {
                return Err("a label appears twice");
            }
            labels.insert(at, (name.to_owned(), value));
            self.skip_blanks();
            if !self.eat(',') {
                self.skip_blanks();
                if !self.eat('}') {
                    return Err("the label list is not closed");
                }
                break;
            }
        }
        Ok(labels)
    }
}

/// A sample value as Go's ParseFloat reads it (`+Inf`, `-Inf`, `NaN`,
/// exponents, a leading `+` or `.`). The digits are read by serde_json's
/// number reader, which the bundle has anyway (core's `f64::from_str` would add
/// its own); a number beyond f64 is refused, not read as infinity.
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => return Some(f64::INFINITY),
        "-Inf" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let (negative, digits) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    // JSON wants a digit on both sides of the point: ".5" and "5." are Go's too.
    let mut json = String::with_capacity(digits.len() + 3);
    if negative {
        json.push('-');
    }
    if digits.starts_with('.') {
        json.push('0');
    }
    json.push_str(digits);
    if let Some(at) = json.find('.') {
        if !json[at + 1..].starts_with(|c: char| c.is_ascii_digit()) {
            json.insert(at + 1, '0');
        }
    }
    // Leading zeros ("007") are Go's too, not JSON's.
    let first = usize::from(negative);
    while json.len() > first + 1
        && json[first..].starts_with('0')
        && json[first + 1..].starts_with(|c: char| c.is_ascii_digit())
    {
        json.remove(first);
    }
    serde_json::from_str::<f64>(&json)
        .ok()
        .filter(|v| v.is_finite())
}

/// Undoes a HELP text's escapes (`\\` and `\n`).
fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            (c, _) => out.push(c),
        }
    }
    out
}

fn parse_comment(body: &str) -> Result<Line<'_>, &'static str> {
    let mut cursor = Cursor { rest: body };
    let keyword = cursor.token();
    if keyword != "HELP" && keyword != "TYPE" {
        return Ok(Line::Skip);
    }
    let name = cursor.token();
    if !is_metric_name(name) {
        return Err("a HELP or TYPE line names no valid metric");
    }
    cursor.skip_blanks();
    if keyword == "HELP" {
        return Ok(Line::Help(name, unescape_help(cursor.rest)));
    }
    let kind =
        MetricType::parse(cursor.rest.trim_end()).ok_or("a TYPE line has an unknown type")?;
    Ok(Line::Type(name, kind))
}

fn parse_sample(line: &str) -> Result<Sample, &'static str> {
    let mut cursor = Cursor { rest: line };
    let name = cursor.take_while(is_name_char);
    if !is_metric_name(name) {
        return Err("it starts with no valid metric name");
    }
    cursor.skip_blanks();
    let labels = if cursor.eat('{') {
        cursor.labels()?
    } else {
        Labels::new()
    };
    let value = parse_value(cursor.token()).ok_or("its value is not a number")?;
    let timestamp = cursor.token();
    let timestamp_ms = if timestamp.is_empty() {
        None
    } else {
        Some(
            timestamp
                .parse::<i64>()
                .map_err(|_| "its timestamp is not an integer")?,
        )
    };
    if !cursor.token().is_empty() {
        return Err("it has more after the timestamp");
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
        timestamp_ms,
    })
}

fn parse_line(line: &str) -> Result<Line<'_>, &'static str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let trimmed = line.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() {
        return Ok(Line::Skip);
    }
    if line.len() > MAX_LINE_BYTES {
        return Err("it is longer than 16 KiB");
    }
    match trimmed.strip_prefix('#') {
        Some(comment) => parse_comment(comment),
        None => parse_sample(trimmed).map(Line::Sample),
    }
}

/// Where declared families and samples meet: the family a sample name belongs to.
fn family_of(name: &str, kind_of: impl Fn(&str) -> Option<MetricType>) -> &str {
    if kind_of(name).is_some() {
        return name;
    }
    for suffix in ["_bucket", "_count", "_sum", "_created"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if kind_of(base).is_some_and(|kind| kind.suffixes().contains(&suffix)) {
                return base;
            }
        }
    }
    name
}

impl Exposition {
    /// Reads a scrape. Bad lines are left out and named; a text with no sample
    /// at all, an HTML page or a text above [`MAX_TEXT_BYTES`] is refused.
    pub fn parse(text: &str) -> Result<Self, ExpositionError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(ExpositionError::TooLarge { bytes: text.len() });
        }
        let start = text.trim_start();
        if start.starts_with('<') {
            return Err(ExpositionError::Html);
        }
        let mut out = Exposition::default();
        // A text that does not end with a newline was cut off mid-line.
        let complete = match text.rfind('\n') {
            Some(end) if end + 1 < text.len() => {
                out.truncated = true;
                &text[..end + 1]
            }
            Some(_) => text,
            None if text.is_empty() => text,
            None => {
                out.truncated = true;
                ""
            }
        };
        // Declared names (HELP, TYPE) and their declarations.
        let mut declared_at = Index::default();
        let mut declared: Vec<(Option<MetricType>, Option<String>)> = Vec::new();
        let mut samples = Vec::new();
        for (index, line) in complete.lines().enumerate() {
            match parse_line(line) {
                Ok(Line::Skip) => {}
                Ok(Line::Help(name, help)) => {
                    let (at, new) = declared_at.slot(name, declared.len());
                    if new {
                        declared.push((None, None));
                    }
                    declared[at].1.get_or_insert(help);
                }
                Ok(Line::Type(name, kind)) => {
                    let (at, new) = declared_at.slot(name, declared.len());
                    if new {
                        declared.push((None, None));
                    }
                    match declared[at].0 {
                        Some(known) if known != kind => {
                            out.problem(index, "a second TYPE line gives another type");
                        }
                        _ => declared[at].0 = Some(kind),
                    }
                }
                Ok(Line::Sample(sample)) => {
                    if samples.len() < MAX_SAMPLES {
                        samples.push(sample);
                    } else {
                        out.samples_dropped += 1;
                    }
                }
                Err(why) => {
                    out.problem(index, why);
                    if samples.is_empty() && out.bad_lines > BAD_LINES_BEFORE_GIVING_UP {
                        break;
                    }
                }
            }
        }
        if samples.is_empty() {
            return Err(ExpositionError::NoSamples {
                first_problem: out.problems.first().cloned(),
            });
        }
        let kind_of = |name: &str| declared_at.get(name).and_then(|at| declared[at].0);
        let mut families = Index::default();
        for sample in samples {
            let family = family_of(&sample.name, kind_of);
            let (at, new) = families.slot(family, out.families.len());
            if new {
                let help = declared_at.get(family).and_then(|d| declared[d].1.clone());
                out.families.push(Family {
                    name: family.to_owned(),
                    kind: kind_of(family).unwrap_or(MetricType::Untyped),
                    help,
                    samples: Vec::new(),
                });
            }
            out.families[at].samples.push(sample);
        }
        Ok(out)
    }

    fn problem(&mut self, index: usize, why: &str) {
        self.bad_lines += 1;
        if self.problems.len() < PROBLEMS_KEPT {
            self.problems.push(format!("line {}: {why}", index + 1));
        }
    }

    /// The family called `name`.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Everything left out, in sentences (empty when nothing was).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.truncated {
            notes.push("the answer ended mid-line (cut off?): its last line was left out".into());
        }
        if self.bad_lines > 0 {
            let more = self.bad_lines.saturating_sub(self.problems.len());
            let mut text = format!(
                "{} line(s) that are not Prometheus text were left out ({})",
                self.bad_lines,
                self.problems.join("; ")
            );
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            notes.push(text);
        }
        if self.samples_dropped > 0 {
            notes.push(format!(
                "{} sample(s) beyond the {MAX_SAMPLES} the dashboard keeps were left out",
                self.samples_dropped
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_help_type_labels_escapes_specials_and_timestamps() {
        let text = "# HELP x_total A \\\\ help\\nline\n# TYPE x_total counter\n# a comment\n\
            x_total{b=\"q\\\"uote\",a=\"back\\\\slash\\nnew, line=}\"} 3 1700000000000\n\
            x_total{ a = \"2\" , } +Inf\nx_total NaN\ny -Inf\n";
        let e = Exposition::parse(text).expect("parses");
        assert_eq!(e.problems, Vec::<String>::new());
        let x = e.family("x_total").expect("x");
        assert_eq!(x.kind, MetricType::Counter);
        assert_eq!(x.help.as_deref(), Some("A \\ help\nline"));
        assert_eq!(
            x.samples[0].labels,
            vec![
                ("a".to_owned(), "back\\slash\nnew, line=}".to_owned()),
                ("b".to_owned(), "q\"uote".to_owned())
            ]
        );
        assert_eq!(x.samples[0].timestamp_ms, Some(1_700_000_000_000));
        assert_eq!(x.samples[1].value, f64::INFINITY);
        assert!(x.samples[2].value.is_nan());
        let y = e.family("y").expect("y");
        assert_eq!(
            (y.kind, y.samples[0].value),
            (MetricType::Untyped, f64::NEG_INFINITY)
        );
    }

    #[test]
    fn joins_a_family_spread_over_the_text_and_typed_after_its_samples() {
        let text = "h_bucket{le=\"1\"} 1\nother 2\nh_bucket{le=\"+Inf\"} 2\n\
            # TYPE h histogram\nh_count 2\nh_sum 1.5\nh_created 1.7e9\n";
        let e = Exposition::parse(text).expect("parses");
        let h = e.family("h").expect("h");
        assert_eq!(h.kind, MetricType::Histogram);
        assert_eq!(h.samples.len(), 5);
        assert_eq!(e.families.len(), 2);
    }

    #[test]
    fn a_bad_line_is_named_and_the_rest_kept() {
        let e = Exposition::parse("a 1\nb{x=1} 2\nc two\nd{x=\"open} 3\ne 4 5 6\nf 5\n")
            .expect("parses");
        assert_eq!(e.families.len(), 2);
        assert_eq!(e.bad_lines, 4);
        assert_eq!(e.problems[0], "line 2: a label value must be quoted");
        assert_eq!(e.problems[1], "line 3: its value is not a number");
        assert!(e.notes()[0].contains("4 line(s)"));
    }

    #[test]
    fn refuses_html_garbage_and_nothing_and_marks_a_cut_off_end() {
        assert_eq!(
            Exposition::parse("\n <html><body>502</body></html>"),
            Err(ExpositionError::Html)
        );
        let garbage = "\u{1}\u{2}zz{{{\n".repeat(50_000);
        let err = Exposition::parse(&garbage).expect_err("garbage");
        assert!(
            err.to_string().contains("not Prometheus text: line 1"),
            "{err}"
        );
        assert!(Exposition::parse("").is_err());
        assert!(Exposition::parse(&"x".repeat(MAX_TEXT_BYTES + 1))
            .expect_err("big")
            .to_string()
            .contains("MB"));
        let cut = Exposition::parse("a 1\nb 2\nc{le=\"0.").expect("parses");
        assert!(cut.truncated);
        assert_eq!(cut.families.len(), 2);
        assert!(cut.notes()[0].contains("cut off"));
    }

    #[test]
    fn rust_only_spellings_of_infinity_are_refused() {
        for bad in ["inf", "infinity", "nan", "0x10", "", "-", "1e999", "1..2"] {
            assert_eq!(parse_value(bad), None, "{bad}");
        }
        for (text, value) in [
            ("1.5e-3", 0.0015),
            ("-2", -2.0),
            ("+3", 3.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("5.", 5.0),
            ("007", 7.0),
            ("0", 0.0),
            ("1.7961874173097625e+09", 1.7961874173097625e9),
        ] {
            assert_eq!(parse_value(text), Some(value), "{text}");
        }
    }
}
