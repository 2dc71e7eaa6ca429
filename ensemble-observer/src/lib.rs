//! # A live web observer for Ensemble
//!
//! One line starts it; open the address in a browser:
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), ensemble_observer::ObserverError> {
//! let observer = ensemble_observer::Observer::bind("127.0.0.1:9000").start().await?;
//! println!("observer: {}", observer.url()); // http://127.0.0.1:9000/
//! # Ok(()) }
//! ```
//!
//! The page shows, updated live over server-sent events: the supervision tree
//! (collapsible, coloured by status), each actor's mailbox depth and message rate, its
//! restarts, failures and their reasons, dead letters by reason, handlers that have run
//! long, process groups, and cluster members if you give it a source of them. No build
//! step and nothing fetched from the network: the page and its script ship inside the
//! crate.
//!
//! | Route | What |
//! |---|---|
//! | `GET /` | the page |
//! | `GET /api/snapshot` | the system now, as JSON |
//! | `GET /api/events` | a snapshot every interval (1 s by default), as server-sent events named `snapshot` |
//! | `GET /metrics` | the snapshot's metrics in the Prometheus text format (`ensemble_...`) |
//! | `POST /api/actors/{id}/stop` and `/kill` | only with [`allow_actions`](ObserverBuilder::allow_actions) |
//!
//! **Safe by default:** read-only, and bound to loopback: another address needs
//! [`allow_remote`](ObserverBuilder::allow_remote), which needs a
//! [`token`](ObserverBuilder::token). With a token, every request carries it, as
//! `Authorization: Bearer <token>` or `?token=<token>` (the page passes it on).
//!
//! Starting it turns on the system's introspection
//! ([`ActorSystem::enable_introspection`]); start it at the beginning of `main`, so that
//! every actor is seen from its start.
#![forbid(unsafe_code)]

mod api;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use api::MemberView;
use ensemble::ActorSystem;
use tokio::task::JoinHandle;

/// Why the observer did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ObserverError {
    /// The address does not parse, or asks for something refused (a non-loopback address
    /// without `allow_remote` and a token).
    Config(String),
    /// The address could not be bound.
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for ObserverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObserverError::Config(why) => write!(f, "observer: {why}"),
            ObserverError::Bind(addr, e) => write!(f, "observer: binding {addr}: {e}"),
        }
    }
}

impl std::error::Error for ObserverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ObserverError::Bind(_, e) => Some(e),
            ObserverError::Config(_) => None,
        }
    }
}

/// The entry point: [`Observer::bind`].
#[derive(Debug)]
pub struct Observer;

impl Observer {
    /// An observer for the global system on `addr` (`"127.0.0.1:9000"`; port 0 picks a
    /// free one), to configure and [`start`](ObserverBuilder::start).
    pub fn bind(addr: impl AsRef<str>) -> ObserverBuilder {
        ObserverBuilder {
            addr: addr.as_ref().to_string(),
            system: ActorSystem::global(),
            token: None,
            actions: false,
            remote: false,
            interval: Duration::from_secs(1),
            members: None,
        }
    }
}

/// How the observer runs; see [`Observer::bind`].
pub struct ObserverBuilder {
    addr: String,
    system: ActorSystem,
    token: Option<String>,
    actions: bool,
    remote: bool,
    interval: Duration,
    members: Option<server::Members>,
}

impl std::fmt::Debug for ObserverBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserverBuilder")
            .field("addr", &self.addr)
            .field("system", &self.system)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("actions", &self.actions)
            .field("remote", &self.remote)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl ObserverBuilder {
    /// Observes `system` instead of the global one.
    pub fn system(mut self, system: &ActorSystem) -> Self {
        self.system = system.clone();
        self
    }

    /// Requires this bearer token on every request.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Lets the page (and `POST /api/actors/{id}/stop|kill`) stop and kill actors.
    pub fn allow_actions(mut self) -> Self {
        self.actions = true;
        self
    }

    /// Allows an address other than loopback (a token is then required).
    pub fn allow_remote(mut self) -> Self {
        self.remote = true;
        self
    }

    /// How often the page gets a new snapshot (default 1 s; at least 50 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(50));
        self
    }

    /// Shows cluster members from `members`, called for each snapshot. With
    /// `ensemble-cluster`, map `node.members()` (name, incarnation, address, status) into
    /// [`MemberView`]s:
    ///
    /// ```
    /// use ensemble_observer::{MemberView, Observer};
    /// let builder = Observer::bind("127.0.0.1:0").members(|| {
    ///     vec![MemberView {
    ///         name: "node-a".into(),
    ///         incarnation: 1,
    ///         address: "10.0.0.1:7100".into(),
    ///         status: "Up".into(),
    ///     }]
    /// });
    /// # drop(builder);
    /// ```
    pub fn members(
        mut self,
        members: impl Fn() -> Vec<MemberView> + Send + Sync + 'static,
    ) -> Self {
        self.members = Some(Arc::new(members));
        self
    }

    /// Binds and serves; returns once it is listening. Turns on the system's
    /// introspection. Needs a tokio runtime.
    pub async fn start(self) -> Result<ObserverHandle, ObserverError> {
        let addr: SocketAddr = self.addr.parse().map_err(|e| {
            ObserverError::Config(format!("{:?} is not an address (ip:port): {e}", self.addr))
        })?;
        if !addr.ip().is_loopback() {
            if !self.remote {
                return Err(ObserverError::Config(format!(
                    "{addr} is not a loopback address: call .allow_remote() (with a .token(..)) \
                     to serve other hosts"
                )));
            }
            if self.token.is_none() {
                return Err(ObserverError::Config(format!(
                    "{addr} is reachable from other hosts: set a .token(..) first"
                )));
            }
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ObserverError::Bind(addr, e))?;
        let local = listener
            .local_addr()
            .map_err(|e| ObserverError::Bind(addr, e))?;
        self.system.enable_introspection();
        let shared = Arc::new(server::Shared {
            system: self.system,
            token: self.token.clone(),
            actions: self.actions,
            interval: self.interval,
            members: self.members,
        });
        let app = server::router(shared);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(target: "ensemble::observer", error = %e, "observer stopped");
            }
        });
        tracing::info!(target: "ensemble::observer", %local, "observer listening");
        Ok(ObserverHandle {
            addr: local,
            token: self.token,
            task,
        })
    }
}

/// A running observer. Dropping it leaves it running; [`shutdown`](Self::shutdown) stops
/// it.
#[derive(Debug)]
pub struct ObserverHandle {
    addr: SocketAddr,
    token: Option<String>,
    task: JoinHandle<()>,
}

impl ObserverHandle {
    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address (with `?token=...` when a token is set).
    pub fn url(&self) -> String {
        match &self.token {
            Some(t) => format!("http://{}/?token={t}", self.addr),
            None => format!("http://{}/", self.addr),
        }
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.task.abort();
    }
}
