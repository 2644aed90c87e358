//! Routing sessions by script path, and the handler trait.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::net::TcpStream;

use crate::aio::Channel;

/// Any error a handler returns; it ends only its session, and is logged at
/// WARN, or at DEBUG when it is the call ending
/// ([`Error::is_hangup`](crate::Error::is_hangup), itself or inside an
/// error that wraps it, then named in the line), so that `?` on a command
/// after the caller hung up needs no special case. A command the hangup
/// interrupted (a prompt playing, GET DATA waiting) fails with its own
/// result (`-1`, as a missing prompt does) just before Asterisk's `HANGUP`
/// notice: the channel waits for the notice after a `-1` (at most
/// [`ServerConfig::hangup_notice_wait`](super::ServerConfig::hangup_notice_wait),
/// 100 ms by default, which a failure on a live channel pays in full), and
/// such a failure, with the notice, is logged at DEBUG too. Without it (a
/// live channel, or
/// `AGISIGHUP=no` in the dialplan), at WARN. (`EXEC`'s `-1`, a `Dial` the
/// hangup ended, is a result, not an error.)
///
/// Handlers take a `Channel<TcpStream>`; to test their logic against
/// [`FakeAsterisk`](crate::testing::FakeAsterisk), write it over any
/// `&mut aio::Channel<S>` and call that from the handler, as the voicemail
/// router example does.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One FastAGI session handed to a handler.
#[derive(Debug)]
pub struct Session {
    /// The channel: environment and commands.
    pub chan: Channel<TcpStream>,
    /// Asterisk's address.
    pub peer: SocketAddr,
}

impl Session {
    /// The script path: `agi_network_script` before any `?`, empty when
    /// the URL had none.
    pub fn script(&self) -> Cow<'_, str> {
        let script = self.chan.env().network_script().unwrap_or_default();
        match script.into_cow() {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(split_script(bytes).0),
            Cow::Owned(bytes) => {
                Cow::Owned(String::from_utf8_lossy(split_script(&bytes).0).into_owned())
            }
        }
    }

    /// The query string after `?` in the script URL, parsed (each call
    /// parses again: keep the result).
    pub fn query(&self) -> Query {
        let script = self.chan.env().network_script().unwrap_or_default();
        Query::parse(&String::from_utf8_lossy(split_script(&script).1))
    }
}

/// The `?a=1&b=2` part of a FastAGI URL. Asterisk passes it verbatim;
/// `%XX` escapes are decoded here, and nothing else: a `+` stays a `+`, as
/// dialplans put raw numbers there (`?cid=${CALLERID(num)}` with an E.164
/// `+44…`), not form-encoded text.
///
/// ```
/// use agi_client::server::Query;
///
/// let q = Query::parse("lang=fr&name=J%C3%A9r%C3%B4me%20B&cid=+442071234567&flag");
/// assert_eq!(q.get("lang"), Some("fr"));
/// assert_eq!(q.get("name"), Some("Jérôme B"));
/// assert_eq!(q.get("cid"), Some("+442071234567"));
/// assert_eq!(q.get("flag"), Some(""));
/// assert_eq!(q.get("none"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=2`.
    pub fn parse(query: &str) -> Query {
        let pairs = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What serves a session. Pass an async closure
/// `|session: Session| async move { … Ok(()) }`, or implement it on a type
/// of your own with [`async_trait`](crate::server::async_trait), for a
/// handler that carries state or configuration:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use agi_client::server::{BoxError, Handler, Router, Session, async_trait};
///
/// /// Sends each caller to one of two queues, in turn.
/// struct RoundRobin {
///     queues: [&'static str; 2],
///     calls: AtomicU64,
/// }
///
/// #[async_trait]
/// impl Handler for RoundRobin {
///     async fn call(&self, mut s: Session) -> Result<(), BoxError> {
///         let n = self.calls.fetch_add(1, Ordering::Relaxed) as usize;
///         s.chan.exec("Queue", self.queues[n % 2]).await?;
///         Ok(())
///     }
/// }
///
/// let router = Router::new().route(
///     "queue",
///     RoundRobin { queues: ["sales", "support"], calls: AtomicU64::new(0) },
/// );
/// assert!(router.find("queue").is_some());
/// ```
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Runs one session. An error is logged (see [`BoxError`]); the
    /// connection is closed.
    async fn call(&self, session: Session) -> Result<(), BoxError>;
}

// Written out rather than through `#[async_trait]`: the macro's box would
// hold the `Session` and the closure's future side by side; calling the
// closure first boxes only its future (one smaller allocation per session).
// `BoxErr` rather than `async move { run.await.map_err(..) }`: an async
// block keeps the future it captured and the one it awaits in two slots,
// which doubled the box.
impl<F, Fut, E> Handler for F
where
    F: Fn(Session) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn call<'life0, 'async_trait>(
        &'life0 self,
        session: Session,
    ) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(BoxErr { run: self(session) })
    }
}

pin_project_lite::pin_project! {
    /// A handler's future with its error boxed.
    struct BoxErr<Fut> {
        #[pin]
        run: Fut,
    }
}

impl<Fut, E> Future for BoxErr<Fut>
where
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().run.poll(cx).map(|r| r.map_err(Into::into))
    }
}

type SharedHandler = Arc<dyn Handler>;

/// Script paths to handlers: exact paths, plus an optional fallback.
///
/// A session whose script nothing serves gets no command, only the line
/// `failure` before the close (Asterisk then sets `AGISTATUS=FAILURE`),
/// and is logged at WARN, at most once a second with the count of those
/// left out.
#[derive(Clone, Default)]
pub struct Router {
    /// Sorted by path, searched by halves: a handful of byte comparisons
    /// per session, where a `HashMap` would hash the path (SipHash, a few
    /// hundred instructions) first. Keyed by bytes: the path is looked up as
    /// Asterisk sent it, without a UTF-8 check or conversion.
    routes: Vec<(Box<[u8]>, SharedHandler)>,
    fallback: Option<SharedHandler>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "routes",
                &self
                    .routes
                    .iter()
                    .map(|(k, _)| String::from_utf8_lossy(k))
                    .collect::<Vec<_>>(),
            )
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Router {
    /// A router with no routes: every session is an unknown script.
    pub fn new() -> Self {
        Router::default()
    }

    /// Serves `path` (the URL path after `host:port/`, without `?query`;
    /// leading and trailing slashes ignored) with `handler`.
    pub fn route(mut self, path: &str, handler: impl Handler) -> Self {
        let path: Box<[u8]> = trim_slashes(path.as_bytes()).into();
        let handler: SharedHandler = Arc::new(handler);
        // A path routed twice keeps the later handler.
        match self.routes.binary_search_by(|(p, _)| (**p).cmp(&path)) {
            Ok(at) => self.routes[at].1 = handler,
            Err(at) => self.routes.insert(at, (path, handler)),
        }
        self
    }

    /// Serves every path no route matches (and URLs without a path).
    pub fn fallback(mut self, handler: impl Handler) -> Self {
        self.fallback = Some(Arc::new(handler));
        self
    }

    /// The handler for a script path.
    ///
    /// ```
    /// use agi_client::server::{Router, Session};
    ///
    /// let ok = |_s: Session| async { Ok::<(), agi_client::Error>(()) };
    /// let router = Router::new().route("/ivr/main/", ok);
    /// assert!(router.find("ivr/main").is_some());
    /// assert!(router.find("//ivr/main/").is_some());
    /// assert!(router.find("ivr").is_none());
    /// assert!(router.fallback(ok).find("ivr").is_some());
    /// ```
    pub fn find(&self, path: &str) -> Option<&dyn Handler> {
        self.find_bytes(path.as_bytes())
    }

    /// The handler for a script path as Asterisk sent it.
    pub(crate) fn find_bytes(&self, path: &[u8]) -> Option<&dyn Handler> {
        let path = trim_slashes(path);
        self.routes
            .binary_search_by(|(p, _)| (**p).cmp(path))
            .ok()
            .map(|at| &self.routes[at].1)
            .or(self.fallback.as_ref())
            .map(|h| &**h)
    }
}

fn trim_slashes(mut path: &[u8]) -> &[u8] {
    while let [b'/', rest @ ..] = path {
        path = rest;
    }
    while let [rest @ .., b'/'] = path {
        path = rest;
    }
    path
}

/// Splits `agi_network_script` into path and query.
pub(crate) fn split_script(script: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b'?', script) {
        Some(q) => (&script[..q], &script[q + 1..]),
        None => (script, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ok(_s: Session) -> Result<(), crate::Error> {
        Ok(())
    }

    #[test]
    fn finds_every_route_whatever_the_order_they_were_added_in() {
        let names = ["m", "b", "ivr/main", "z", "a", "ivr", "ivr/main/x", "c"];
        let router = names.iter().fold(Router::new(), |r, n| r.route(n, ok));
        for name in names {
            assert!(router.find(name).is_some(), "{name}");
        }
        for absent in ["", "ivr/mai", "ivr/main/x/y", "d", "zz"] {
            assert!(router.find(absent).is_none(), "{absent}");
        }
        // Trailing slashes are trimmed on lookup too.
        assert!(router.find("ivr/").is_some());
    }

    #[test]
    fn a_path_routed_twice_keeps_one_entry() {
        let router = Router::new().route("x", ok).route("/x/", ok).route("y", ok);
        assert_eq!(router.routes.len(), 2);
        assert!(router.routes.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
