//! Every setting of the service, from flags or environment variables
//! (`sse-backend --help` lists them).

use std::time::Duration;

/// The shape `/admin/execution-stats` answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsShape {
    /// `{"stages":{"1":{...},...}}` (the current service).
    Wrapped,
    /// `{"1":{...,"stage_id":"1","success_rate":1.0},...}` (an older version).
    Flat,
}

/// Timing profile of the fake LLM.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct FakeLlmSettings {
    /// Shortest time to the first chunk, ms.
    #[arg(long, env = "FAKE_TTFT_MIN_MS", default_value_t = 200)]
    pub ttft_min_ms: u64,
    /// Longest time to the first chunk, ms.
    #[arg(long, env = "FAKE_TTFT_MAX_MS", default_value_t = 800)]
    pub ttft_max_ms: u64,
    /// Shortest gap between chunks, ms.
    #[arg(long, env = "FAKE_GAP_MIN_MS", default_value_t = 50)]
    pub gap_min_ms: u64,
    /// Longest gap between chunks, ms.
    #[arg(long, env = "FAKE_GAP_MAX_MS", default_value_t = 150)]
    pub gap_max_ms: u64,
    /// Fewest characters per chunk.
    #[arg(long, env = "FAKE_CHUNK_MIN_CHARS", default_value_t = 2)]
    pub chunk_min_chars: usize,
    /// Most characters per chunk.
    #[arg(long, env = "FAKE_CHUNK_MAX_CHARS", default_value_t = 6)]
    pub chunk_max_chars: usize,
    /// Shortest answer, characters.
    #[arg(long, env = "FAKE_ANSWER_MIN_CHARS", default_value_t = 400)]
    pub answer_min_chars: usize,
    /// Longest answer, characters.
    #[arg(long, env = "FAKE_ANSWER_MAX_CHARS", default_value_t = 1200)]
    pub answer_max_chars: usize,
    /// Seed of the fake LLM's choices; the same seed and query give the same answer and timing.
    #[arg(long, env = "FAKE_SEED", default_value_t = 42)]
    pub seed: u64,
}

impl Default for FakeLlmSettings {
    fn default() -> Self {
        Self::realistic()
    }
}

impl FakeLlmSettings {
    /// Close to the existing service: 0.2-0.8 s to the first chunk, 2-6 characters
    /// every 50-150 ms.
    pub fn realistic() -> Self {
        Self {
            ttft_min_ms: 200,
            ttft_max_ms: 800,
            gap_min_ms: 50,
            gap_max_ms: 150,
            chunk_min_chars: 2,
            chunk_max_chars: 6,
            answer_min_chars: 400,
            answer_max_chars: 1200,
            seed: 42,
        }
    }

    /// No delays at all: for benchmarks of the service's own overhead.
    pub fn zero_delay() -> Self {
        Self {
            ttft_min_ms: 0,
            ttft_max_ms: 0,
            gap_min_ms: 0,
            gap_max_ms: 0,
            ..Self::realistic()
        }
    }
}

/// The service's settings.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct Settings {
    /// Initial USE_FAKE_LLM (changeable at run time with PUT /admin/config).
    #[arg(long, env = "USE_FAKE_LLM", default_value_t = true, action = clap::ArgAction::Set)]
    pub use_fake_llm: bool,
    /// Initial ENABLE_CACHING.
    #[arg(long, env = "ENABLE_CACHING", default_value_t = true, action = clap::ArgAction::Set)]
    pub enable_caching: bool,
    /// Redis for the L2 cache, e.g. redis://127.0.0.1:6379. Without it there is no L2.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Entries of the in-memory L1 cache.
    #[arg(long, env = "L1_CACHE_CAPACITY", default_value_t = 1_000)]
    pub l1_capacity: usize,
    /// Lifetime of a cached answer, seconds (L1 and L2).
    #[arg(long, env = "CACHE_TTL_SECS", default_value_t = 3_600)]
    pub cache_ttl_secs: u64,
    /// Concurrent streams one user (X-User-ID header, else client IP) may hold.
    /// The existing service allows 3; the default lets one browser run 50 at once.
    #[arg(long, env = "PER_USER_STREAM_LIMIT", default_value_t = 100)]
    pub per_user_limit: usize,
    /// Concurrent streams over all users.
    #[arg(long, env = "GLOBAL_STREAM_LIMIT", default_value_t = 10_000)]
    pub global_limit: usize,
    /// Requests that may wait in the failover queue; beyond it the answer is 503.
    #[arg(long, env = "QUEUE_CAPACITY", default_value_t = 1_000)]
    pub queue_capacity: usize,
    /// How long a queued request waits for a slot before its stream ends with an error, ms.
    #[arg(long, env = "QUEUE_TIMEOUT_MS", default_value_t = 30_000)]
    pub queue_timeout_ms: u64,
    /// Interval of `: ping` comments to queued requests, ms.
    #[arg(long, env = "QUEUE_PING_MS", default_value_t = 15_000)]
    pub queue_ping_ms: u64,
    /// Requests per minute per user; beyond it 429 with Retry-After. Off when absent.
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE")]
    pub rate_limit_per_minute: Option<u32>,
    /// When set, /admin/* requires `Authorization: Bearer <token>` (compared in
    /// constant time). Without it the admin routes are open: keep the service on
    /// 127.0.0.1 or behind a proxy that guards them.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// This instance's name in the `x-instance-id` header of every answer and in
    /// /health (several instances behind a balancer); default: the listen
    /// address, host:port.
    #[arg(long, env = "INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Origins (e.g. http://127.0.0.1:3001) whose pages may call the API from the
    /// browser (CORS, with credentials); comma-separated. None by default: the
    /// dashboard calls it through its own nginx, from the same origin.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Addresses of proxies (e.g. 127.0.0.1 for the dashboard's nginx) whose
    /// X-Forwarded-For names the client; comma-separated. From any other peer
    /// the header is ignored. None by default.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A new connection must send a whole request head within this time, ms.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
    /// A connection with no request in flight is closed after this time, ms.
    /// Longer than nginx's upstream keepalive_timeout (60 s), so that a proxy
    /// never sends a request on a connection the service is closing.
    #[arg(long, env = "IDLE_TIMEOUT_MS", default_value_t = 75_000)]
    pub idle_timeout_ms: u64,
    /// Shape of /admin/execution-stats (to test clients against both service versions).
    #[arg(long, env = "STATS_SHAPE", value_enum, default_value_t = StatsShape::Wrapped)]
    pub stats_shape: StatsShape,
    /// Whether /admin/execution-stats includes p90_duration_ms (the real service does not).
    #[arg(long, env = "STATS_P90", default_value_t = true, action = clap::ArgAction::Set)]
    pub stats_p90: bool,
    /// Whether `/admin/load-stats?requests=true` lists per-request records (off:
    /// no `requests` in the answer, like a service that keeps none).
    #[arg(long, env = "REQUEST_RECORDS", default_value_t = true, action = clap::ArgAction::Set)]
    pub request_records: bool,
    /// Base URL of the OpenAI-compatible API used when USE_FAKE_LLM is false.
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_base_url: String,
    /// API key for it; without one, real-provider streams fail with an error event.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Time limit of one provider request, ms.
    #[arg(long, env = "PROVIDER_TIMEOUT_MS", default_value_t = 120_000)]
    pub provider_timeout_ms: u64,
    #[command(flatten)]
    pub fake: FakeLlmSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            use_fake_llm: true,
            enable_caching: true,
            redis_url: None,
            l1_capacity: 1_000,
            cache_ttl_secs: 3_600,
            per_user_limit: 100,
            global_limit: 10_000,
            queue_capacity: 1_000,
            queue_timeout_ms: 30_000,
            queue_ping_ms: 15_000,
            rate_limit_per_minute: None,
            admin_token: None,
            instance_id: None,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 75_000,
            stats_shape: StatsShape::Wrapped,
            stats_p90: true,
            request_records: true,
            openai_base_url: "https://api.openai.com/v1".into(),
            openai_api_key: None,
            provider_timeout_ms: 120_000,
            fake: FakeLlmSettings::realistic(),
        }
    }
}

impl Settings {
    pub fn queue_timeout(&self) -> Duration {
        Duration::from_millis(self.queue_timeout_ms)
    }

    pub fn queue_ping(&self) -> Duration {
        Duration::from_millis(self.queue_ping_ms.max(1))
    }

    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms.max(1))
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.max(1))
    }

    /// What an operator should know before the service takes requests.
    pub fn startup_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.admin_token.as_deref().is_none_or(str::is_empty) {
            warnings.push(
                "warning: ADMIN_TOKEN is not set: /admin/* (configuration, statistics) is open to anyone who can reach this address. Set ADMIN_TOKEN (or --admin-token) unless only trusted clients can connect."
                    .to_owned(),
            );
        }
        if self.cors_origins.iter().any(|o| o.trim() == "*") {
            warnings.push(
                "warning: CORS_ORIGINS has \"*\", which is not honoured (it would let any web page use the API with the visitor's credentials); list the origins instead."
                    .to_owned(),
            );
        }
        warnings
    }
}
