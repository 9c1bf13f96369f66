//! LLM providers: the fake one, and an OpenAI-compatible streaming API.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use sse_core::contract::api_error::ApiErrorBody;
use sse_core::sse::parser::{SseFrame, SseParser};

use crate::fake_llm::FakeStream;
use crate::settings::Settings;

/// Provider names the service accepts; others are a 422.
pub const KNOWN_PROVIDERS: [&str; 6] =
    ["fake", "openai", "anthropic", "google", "cohere", "mistral"];

/// Why a provider could not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// Goes into the `error` event's `error` field.
    pub kind: &'static str,
    pub message: String,
}

/// Which provider serves a request, decided in stage 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderChoice {
    Fake,
    OpenAi { base_url: String, api_key: String },
}

impl ProviderChoice {
    /// The fake LLM when USE_FAKE_LLM is on or `fake` is asked for; otherwise the
    /// named provider, failing clearly (never a silent fallback) when it is not set up.
    pub fn select(
        use_fake_llm: bool,
        requested: Option<&str>,
        settings: &Settings,
    ) -> Result<Self, ProviderError> {
        let requested = requested.unwrap_or("openai");
        if use_fake_llm || requested == "fake" {
            return Ok(Self::Fake);
        }
        match requested {
            "openai" => match &settings.openai_api_key {
                Some(key) if !key.is_empty() => Ok(Self::OpenAi {
                    base_url: settings.openai_base_url.trim_end_matches('/').to_owned(),
                    api_key: key.clone(),
                }),
                _ => Err(ProviderError {
                    kind: "provider_not_configured",
                    message: "USE_FAKE_LLM is off and OPENAI_API_KEY is not set: the OpenAI provider cannot be used".into(),
                }),
            },
            other => Err(ProviderError {
                kind: "provider_not_configured",
                message: format!("the provider \"{other}\" is not available in this service (USE_FAKE_LLM is off)"),
            }),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Fake => "fake",
            Self::OpenAi { .. } => "openai",
        }
    }
}

/// One piece of an answer; the last one carries the finish reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChunk {
    pub content: String,
    pub finish_reason: Option<String>,
}

/// A provider's answer as it arrives.
pub enum ProviderStream {
    Fake(FakeStream),
    OpenAi(OpenAiStream),
}

impl ProviderStream {
    pub fn fake(stream: FakeStream) -> Self {
        Self::Fake(stream)
    }

    /// The next chunk; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<ProviderChunk, ProviderError>> {
        match self {
            Self::Fake(stream) => {
                let (wait, content) = stream.next_chunk()?;
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let finish_reason = stream.is_finished().then(|| "stop".to_owned());
                Some(Ok(ProviderChunk {
                    content,
                    finish_reason,
                }))
            }
            Self::OpenAi(stream) => stream.next().await,
        }
    }
}

/// `POST {base}/chat/completions` with `"stream": true`, read as SSE.
pub struct OpenAiStream {
    body: Option<futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>>,
    parser: SseParser,
    pending: VecDeque<Result<ProviderChunk, ProviderError>>,
    finished: bool,
}

fn provider_error(message: impl Into<String>) -> ProviderError {
    ProviderError {
        kind: "provider_error",
        message: message.into(),
    }
}

impl OpenAiStream {
    pub async fn start(
        base_url: &str,
        api_key: &str,
        model: &str,
        query: &str,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .build()
            .map_err(|e| provider_error(format!("cannot create an HTTP client: {e}")))?;
        let response = client
            .post(format!("{base_url}/chat/completions"))
            .bearer_auth(api_key)
            .json(&serde_json::json!({
                "model": model,
                "messages": [{ "role": "user", "content": query }],
                "stream": true,
            }))
            .send()
            .await
            .map_err(|e| provider_error(format!("the provider could not be reached: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| ApiErrorBody::parse(&body).summary());
            return Err(provider_error(format!(
                "the provider answered HTTP {}: {message}",
                status.as_u16()
            )));
        }
        Ok(Self {
            body: Some(response.bytes_stream().boxed()),
            parser: SseParser::default(),
            pending: VecDeque::new(),
            finished: false,
        })
    }

    fn take_frame(&mut self, frame: Result<SseFrame, sse_core::sse::parser::SseError>) {
        let data = match frame {
            Ok(SseFrame::Event(event)) => event.data,
            Ok(SseFrame::Comment(_)) => return,
            Err(e) => {
                self.pending.push_back(Err(provider_error(format!(
                    "unreadable provider stream: {e}"
                ))));
                return;
            }
        };
        if data.trim() == "[DONE]" {
            self.finished = true;
            return;
        }
        match serde_json::from_str::<serde_json::Value>(&data) {
            Ok(value) if value.get("error").is_some() => {
                let message = value["error"]["message"]
                    .as_str()
                    .unwrap_or("the provider reported an error");
                self.pending.push_back(Err(provider_error(message)));
            }
            Ok(value) => {
                let choice = &value["choices"][0];
                let content = choice["delta"]["content"].as_str().unwrap_or_default();
                let finish_reason = choice["finish_reason"].as_str().map(str::to_owned);
                if !content.is_empty() || finish_reason.is_some() {
                    self.pending.push_back(Ok(ProviderChunk {
                        content: content.to_owned(),
                        finish_reason,
                    }));
                }
            }
            Err(e) => self.pending.push_back(Err(provider_error(format!(
                "unreadable provider event: {e}"
            )))),
        }
    }

    pub async fn next(&mut self) -> Option<Result<ProviderChunk, ProviderError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            let body = self.body.as_mut()?;
            match body.next().await {
                Some(Ok(bytes)) => {
                    let mut frames = Vec::new();
                    self.parser.feed(&bytes, &mut |f| frames.push(f));
                    for frame in frames {
                        self.take_frame(frame);
                    }
                }
                Some(Err(e)) => {
                    self.body = None;
                    self.finished = true;
                    return Some(Err(provider_error(format!(
                        "the provider's stream broke: {e}"
                    ))));
                }
                None => {
                    self.body = None;
                    let mut frames = Vec::new();
                    self.parser.finish(&mut |f| frames.push(f));
                    for frame in frames {
                        self.take_frame(frame);
                    }
                    if !self.finished {
                        self.finished = true;
                        self.pending.push_back(Err(provider_error(
                            "the provider's stream ended without [DONE]",
                        )));
                    }
                }
            }
        }
    }
}
