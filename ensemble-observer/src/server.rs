//! The HTTP side: routes, the bearer token, server-sent events, actions.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ensemble::{ActorCell, ActorSystem};
use futures_util::stream::{self, Stream};

use crate::api::{MemberView, SnapshotView, prometheus};

/// A source of cluster members for the page.
pub(crate) type Members = Arc<dyn Fn() -> Vec<MemberView> + Send + Sync>;

/// What every request handler shares.
pub(crate) struct Shared {
    pub(crate) system: ActorSystem,
    pub(crate) token: Option<String>,
    pub(crate) actions: bool,
    pub(crate) interval: Duration,
    pub(crate) members: Option<Members>,
}

type AppState = Arc<Shared>;

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

pub(crate) fn router(shared: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style))
        .route("/api/snapshot", get(snapshot))
        .route("/api/events", get(events))
        .route("/metrics", get(metrics))
        .route("/api/actors/{id}/{action}", post(act))
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        .with_state(shared)
}

/// With a token set, every data request must carry it: `Authorization: Bearer <token>`,
/// or `?token=<token>` (for the page's event stream, which cannot set headers).
async fn authorize(
    State(shared): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &shared.token else {
        return next.run(request).await;
    };
    // The page and its script hold no data: they load without the token, then pass it on.
    if matches!(request.uri().path(), "/" | "/app.js" | "/style.css") {
        return next.run(request).await;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let given = bearer.or(query.get("token").map(String::as_str));
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "this observer needs its token: add ?token=... to the address, or send \
             Authorization: Bearer ...\n",
        )
            .into_response()
    }
}

/// Compares without leaking, through timing, how much of the token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset(INDEX, "text/html; charset=utf-8")
}

async fn app_js() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

fn view(shared: &Shared) -> SnapshotView {
    let members = shared.members.as_ref().map(|m| m()).unwrap_or_default();
    SnapshotView::new(&shared.system.snapshot(), shared.actions, members)
}

async fn snapshot(State(shared): State<AppState>) -> Response {
    axum::Json(view(&shared)).into_response()
}

/// A snapshot every interval, as server-sent events named `snapshot`.
async fn events(
    State(shared): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let period = shared.interval;
    let ticks = stream::unfold((shared, true), move |(shared, first)| async move {
        if !first {
            tokio::time::sleep(period).await;
        }
        let json = serde_json::to_string(&view(&shared)).unwrap_or_else(|_| "{}".into());
        Some((
            Ok(Event::default().event("snapshot").data(json)),
            (shared, false),
        ))
    });
    Sse::new(ticks).keep_alive(KeepAlive::default())
}

async fn metrics(State(shared): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        prometheus(&shared.system.snapshot()),
    )
        .into_response()
}

/// `POST /api/actors/{id}/stop` or `/kill`, when actions are enabled.
async fn act(
    State(shared): State<AppState>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    if !shared.actions {
        return (
            StatusCode::FORBIDDEN,
            "actions are off: start the observer with .allow_actions() to stop or kill actors\n",
        )
            .into_response();
    }
    let Some(cell) = find(&shared.system, &id) else {
        return (StatusCode::NOT_FOUND, format!("no live actor {id}\n")).into_response();
    };
    match action.as_str() {
        "stop" => cell.stop(Some("stopped from the observer".into())),
        "kill" => cell.kill(),
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unknown action {other:?}: stop or kill\n"),
            )
                .into_response();
        }
    }
    tracing::info!(target: "ensemble::observer", actor = %id, action, "actor action from the observer");
    (StatusCode::ACCEPTED, format!("{action} sent to {id}\n")).into_response()
}

/// The live actor whose id prints as `id`, among those a snapshot sees.
fn find(system: &ActorSystem, id: &str) -> Option<ActorCell> {
    let wanted = system
        .snapshot()
        .actors
        .into_iter()
        .find(|a| a.id.to_string() == id)?
        .id;
    system.actor(wanted)
}
