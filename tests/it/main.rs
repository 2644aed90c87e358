//! Integration tests against the traffic captured from a real Asterisk in
//! `../shared/fixtures/transcripts/` (read in place, never copied).

mod child;
mod client_replay;
mod eagi;
mod env_fixtures;
mod fixtures;
mod ivr_service;
mod script;
mod sighup;
mod transcripts;
mod voicemail_router;
