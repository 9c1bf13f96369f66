//! The dashboard's platform-neutral core: typed models of the SSE Streaming
//! Microservice's API (see `shared/contract.md`) and the logic that turns its
//! answers into what the dashboard shows. No I/O, no browser: it compiles for
//! wasm32 (the dashboard) and native (the reference backend and the tests).

pub mod health;
