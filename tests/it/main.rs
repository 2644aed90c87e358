//! Integration tests against the traffic captured from a real Asterisk in
//! `../shared/fixtures/transcripts/` (read in place, never copied).

mod env_fixtures;
mod fixtures;
mod script;
mod transcripts;
