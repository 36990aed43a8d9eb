//! HTTP handlers sharing a bounded cache in front of a slow backend.
//!
//! Many requests for the same user arrive at once. With a plain map each
//! handler that misses calls the backend; here they share a
//! racefree-cache, whose `get_or_insert_with_async` lets one of them call
//! the backend while the others await its record (single flight). The
//! `/stats` route shows the effect: misses are counted per request, backend
//! calls once per user.
//!
//! `cargo run -p racefree-cache --example http_service` starts the server on
//! a free loopback port, sends it concurrent requests, prints the stats,
//! and exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use racefree_cache::Cache;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

/// A user record, as the backend returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    /// Which backend call produced this record.
    fetch: u64,
}

/// What `/stats` reports.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Stats {
    hits: u64,
    misses: u64,
    backend_calls: u64,
    cached: usize,
}

/// What every handler shares.
struct AppState {
    users: Cache<u64, User>,
    backend_calls: AtomicU64,
}

impl AppState {
    fn new() -> Self {
        Self {
            users: Cache::builder(10_000)
                .time_to_live(Duration::from_secs(60))
                .build()
                .expect("a valid cache configuration"),
            backend_calls: AtomicU64::new(0),
        }
    }
}

/// The slow backend: a database or another service.
async fn fetch_user(state: &AppState, id: u64) -> User {
    let fetch = state.backend_calls.fetch_add(1, Relaxed);
    tokio::time::sleep(Duration::from_millis(50)).await;
    User {
        id,
        name: format!("user-{id}"),
        fetch,
    }
}

async fn get_user(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Json<User> {
    // One backend call per missing user, however many requests miss it.
    let user = state
        .users
        .get_or_insert_with_async(id, fetch_user(&state, id))
        .await;
    Json(user)
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Stats> {
    let cache = state.users.stats();
    Json(Stats {
        hits: cache.hits,
        misses: cache.misses,
        backend_calls: state.backend_calls.load(Relaxed),
        cached: state.users.len(),
    })
}

fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/users/{id}", get(get_user))
        .route("/stats", get(stats))
        .with_state(state)
}

/// Serves `app` on a free loopback port and returns its address.
async fn serve(state: Arc<AppState>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app(state)).await.expect("serve") });
    address
}

/// Sends `requests` concurrent GETs spread over `users` ids and returns the
/// records received.
async fn load(address: SocketAddr, requests: u64, users: u64) -> Vec<User> {
    let client = reqwest::Client::new();
    let calls: Vec<_> = (0..requests)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let url = format!("http://{address}/users/{}", i % users);
                client
                    .get(url)
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<User>()
                    .await
            })
        })
        .collect();
    let mut received = Vec::new();
    for call in calls {
        received.push(call.await.expect("request task").expect("request"));
    }
    received
}

async fn fetch_stats(address: SocketAddr) -> Stats {
    reqwest::get(format!("http://{address}/stats"))
        .await
        .and_then(|response| response.error_for_status())
        .expect("GET /stats")
        .json()
        .await
        .expect("stats as JSON")
}

#[tokio::main]
async fn main() {
    let state = Arc::new(AppState::new());
    let address = serve(Arc::clone(&state)).await;
    println!("serving on http://{address}");
    let users = load(address, 400, 20).await;
    let stats = fetch_stats(address).await;
    println!(
        "{} responses; cache hits {}, misses {}, backend calls {}, cached users {}",
        users.len(),
        stats.hits,
        stats.misses,
        stats.backend_calls,
        stats.cached,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_misses_of_a_user_make_one_backend_call() {
        let state = Arc::new(AppState::new());
        let address = serve(Arc::clone(&state)).await;
        let users = load(address, 300, 10).await;

        assert_eq!(users.len(), 300);
        for user in &users {
            assert_eq!(user.name, format!("user-{}", user.id));
            // Every response carries the one record fetched for its user.
            assert_eq!(Some(user), state.users.get(&user.id).as_ref());
        }
        let stats = fetch_stats(address).await;
        assert_eq!(stats.backend_calls, 10, "one backend call per user");
        assert_eq!(stats.cached, 10);
        // 300 lookups by the handlers, plus the 300 `get`s above.
        assert_eq!(stats.hits + stats.misses, 600);
        assert!(
            stats.misses > stats.backend_calls,
            "requests that arrive during the 50 ms fetch miss and wait: {stats:?}"
        );
    }
}
