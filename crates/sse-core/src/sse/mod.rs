//! Server-Sent Events: the incremental parser ([`parser`]) and the typed events
//! of a `/stream` answer ([`stream`]).

pub mod parser;
pub mod stream;
