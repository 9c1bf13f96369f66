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

/// One query's answer, produced chunk by chunk as it is streamed (a stream holds
/// a few dozen bytes of state, not its whole answer: 10,000 open streams stay cheap).
#[derive(Debug, Clone)]
pub struct FakeStream {
    rng: Rng,
    settings: FakeLlmSettings,
    /// Characters still to produce.
    remaining: usize,
    /// Generated text not yet handed out.
    pending: String,
    sentence_start: bool,
    started: bool,
}

impl FakeStream {
    pub fn new(settings: &FakeLlmSettings, query: &str) -> Self {
        let mut rng = Rng::new(settings.seed ^ fnv1a(query));
        let length = rng.between(
            settings.answer_min_chars as u64,
            settings.answer_max_chars as u64,
        ) as usize;
        Self {
            rng,
            settings: settings.clone(),
            remaining: length.max(1),
            pending: String::new(),
            sentence_start: true,
            started: false,
        }
    }

    fn next_word(&mut self) {
        let word = WORDS[self.rng.next_u64() as usize % WORDS.len()];
        if self.sentence_start {
            let mut letters = word.chars();
            if let Some(first) = letters.next() {
                self.pending.extend(first.to_uppercase());
                self.pending.push_str(letters.as_str());
            }
        } else {
            self.pending.push_str(word);
        }
        self.sentence_start = self.rng.next_u64().is_multiple_of(9);
        self.pending
            .push_str(if self.sentence_start { ". " } else { " " });
    }

    /// The delay before the next chunk and its text; `None` at the end.
    pub fn next_chunk(&mut self) -> Option<(Duration, String)> {
        if self.remaining == 0 {
            return None;
        }
        let delay = if self.started {
            self.rng
                .between(self.settings.gap_min_ms, self.settings.gap_max_ms)
        } else {
            self.started = true;
            self.rng
                .between(self.settings.ttft_min_ms, self.settings.ttft_max_ms)
        };
        let chunk_min = self.settings.chunk_min_chars.max(1) as u64;
        let chunk_max = self.settings.chunk_max_chars.max(1) as u64;
        let size = (self.rng.between(chunk_min, chunk_max) as usize).min(self.remaining);
        while self.pending.chars().count() < size {
            self.next_word();
        }
        let split = self
            .pending
            .char_indices()
            .nth(size)
            .map_or(self.pending.len(), |(i, _)| i);
        let rest = self.pending.split_off(split);
        let mut chunk = std::mem::replace(&mut self.pending, rest);
        self.remaining -= size;
        if self.remaining == 0 {
            // No trailing space at the very end.
            let trimmed = chunk.trim_end().len();
            chunk.truncate(trimmed.max(1).min(chunk.len()));
        }
        Some((Duration::from_millis(delay), chunk))
    }

    pub fn is_finished(&self) -> bool {
        self.remaining == 0
    }
}

/// The whole answer to `query` at once (for tests and tools).
pub fn answer_text(settings: &FakeLlmSettings, query: &str) -> (Vec<Duration>, Vec<String>) {
    let mut stream = FakeStream::new(settings, query);
    let mut delays = Vec::new();
    let mut chunks = Vec::new();
    while let Some((delay, chunk)) = stream.next_chunk() {
        delays.push(delay);
        chunks.push(chunk);
    }
    (delays, chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_query_give_the_same_answer_and_timing() {
        let settings = FakeLlmSettings::realistic();
        assert_eq!(answer_text(&settings, "q"), answer_text(&settings, "q"));
        assert_ne!(
            answer_text(&settings, "q").1,
            answer_text(&settings, "other").1
        );
    }

    #[test]
    fn answer_respects_the_configured_ranges() {
        let settings = FakeLlmSettings::realistic();
        for query in ["a", "b", "performance", "é✓"] {
            let (delays, chunks) = answer_text(&settings, query);
            let length: usize = chunks.iter().map(|c| c.chars().count()).sum();
            assert!((390..=1200).contains(&length), "{length}");
            assert!((200..=800).contains(&(delays[0].as_millis() as u64)));
            for (i, chunk) in chunks.iter().enumerate() {
                let n = chunk.chars().count();
                assert!((1..=6).contains(&n), "chunk {chunk:?}");
                if i < chunks.len() - 1 {
                    assert!(n >= 2, "only the last chunk may be shorter: {chunk:?}");
                }
                if i > 0 {
                    assert!((50..=150).contains(&(delays[i].as_millis() as u64)));
                }
            }
        }
    }

    #[test]
    fn zero_delay_profile_has_no_waits() {
        let (delays, _) = answer_text(&FakeLlmSettings::zero_delay(), "q");
        assert!(delays.iter().all(Duration::is_zero));
    }
}
