//! The fake LLM provider: a deterministic answer for each (seed, query), streamed
//! in small chunks with configurable timing.

use std::time::Duration;

use crate::settings::FakeLlmSettings;

/// splitmix64: small, fast, and good enough to vary text and timing.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high` (`low` when `high <= low`).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low + 1)
    }
}

/// FNV-1a of the query, to make each query's answer its own.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

const WORDS: [&str; 24] = [
    "latency",
    "throughput",
    "stream",
    "token",
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "server",
    "queue",
    "cache",
    "percentile",
    "load",
    "test",
    "signal",
    "answer",
    "model",
    "rank",
    "chunk",
    "event",
    "tail",
    "median",
    "fast",
];

/// The whole answer to one query, ready to be streamed.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeAnswer {
    /// Delay before the first chunk.
    pub first_chunk_after: Duration,
    /// Each chunk with the delay before it (the first chunk's delay is zero: it is
    /// `first_chunk_after`).
    pub chunks: Vec<(Duration, String)>,
}

impl FakeAnswer {
    pub fn text(&self) -> String {
        self.chunks
            .iter()
            .map(|(_, chunk)| chunk.as_str())
            .collect()
    }
}

/// Plans the answer to `query`.
pub fn answer(settings: &FakeLlmSettings, query: &str) -> FakeAnswer {
    let mut rng = Rng::new(settings.seed ^ fnv1a(query));
    let length = rng.between(
        settings.answer_min_chars as u64,
        settings.answer_max_chars as u64,
    ) as usize;
    let mut text = String::with_capacity(length + 16);
    let mut sentence_start = true;
    while text.chars().count() < length.max(1) {
        let word = WORDS[rng.next_u64() as usize % WORDS.len()];
        if sentence_start {
            let mut letters = word.chars();
            if let Some(first) = letters.next() {
                text.extend(first.to_uppercase());
                text.push_str(letters.as_str());
            }
        } else {
            text.push_str(word);
        }
        sentence_start = rng.next_u64().is_multiple_of(9);
        text.push_str(if sentence_start { ". " } else { " " });
    }
    let text: String = text.trim_end().chars().take(length.max(1)).collect();

    let first_chunk_after =
        Duration::from_millis(rng.between(settings.ttft_min_ms, settings.ttft_max_ms));
    let chars: Vec<char> = text.chars().collect();
    let mut chunks = Vec::with_capacity(chars.len() / settings.chunk_min_chars.max(1) + 1);
    let mut at = 0;
    while at < chars.len() {
        let size = rng.between(
            settings.chunk_min_chars.max(1) as u64,
            settings.chunk_max_chars.max(1) as u64,
        ) as usize;
        let end = (at + size).min(chars.len());
        let gap = if chunks.is_empty() {
            Duration::ZERO
        } else {
            Duration::from_millis(rng.between(settings.gap_min_ms, settings.gap_max_ms))
        };
        chunks.push((gap, chars[at..end].iter().collect()));
        at = end;
    }
    FakeAnswer {
        first_chunk_after,
        chunks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_query_give_the_same_answer_and_timing() {
        let settings = FakeLlmSettings::realistic();
        assert_eq!(answer(&settings, "q"), answer(&settings, "q"));
        assert_ne!(
            answer(&settings, "q").text(),
            answer(&settings, "other").text()
        );
    }

    #[test]
    fn answer_respects_the_configured_ranges() {
        let settings = FakeLlmSettings::realistic();
        for query in ["a", "b", "performance", "é✓"] {
            let plan = answer(&settings, query);
            let text = plan.text();
            let length = text.chars().count();
            assert!((400..=1200).contains(&length), "{length}");
            assert!((200..=800).contains(&(plan.first_chunk_after.as_millis() as u64)));
            for (i, (gap, chunk)) in plan.chunks.iter().enumerate() {
                let n = chunk.chars().count();
                assert!((1..=6).contains(&n), "chunk {chunk:?}");
                if i < plan.chunks.len() - 1 {
                    assert!(n >= 2, "only the last chunk may be shorter: {chunk:?}");
                }
                if i > 0 {
                    assert!((50..=150).contains(&(gap.as_millis() as u64)));
                }
            }
        }
    }

    #[test]
    fn zero_delay_profile_has_no_waits() {
        let plan = answer(&FakeLlmSettings::zero_delay(), "q");
        assert_eq!(plan.first_chunk_after, Duration::ZERO);
        assert!(plan.chunks.iter().all(|(gap, _)| gap.is_zero()));
    }
}
