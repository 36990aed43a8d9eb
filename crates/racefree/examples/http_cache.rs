//! Several HTTP handlers sharing one cache in front of a slow backend.
//!
//! This is the Go playbook's opening scene: handlers that share a plain map
//! crash with `concurrent map writes`. Here they share a
//! [`ShardedMap`]; the compiler rules out the crash, and `get_or_insert`
//! rules out the check-then-act race where two handlers that miss at once
//! store different values.
//!
//! `cargo run --example http_cache` starts the server on a free loopback
//! port, sends it concurrent requests, prints what the cache saw, and exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use racefree::{ConcurrentMap, ShardedMap};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

/// A user record, as the backend returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    /// Which backend call produced this record: handlers that raced on a
    /// miss must all return the same one.
    fetch: u64,
}

/// What every handler shares.
#[derive(Default)]
struct AppState {
    cache: ShardedMap<u64, User>,
    hits: AtomicU64,
    misses: AtomicU64,
    backend_calls: AtomicU64,
}

/// The slow backend: a database or another service.
async fn fetch_user(state: &AppState, id: u64) -> User {
    let fetch = state.backend_calls.fetch_add(1, Relaxed);
    tokio::time::sleep(Duration::from_millis(20)).await;
    User {
        id,
        name: format!("user-{id}"),
        fetch,
    }
}

async fn get_user(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Json<User> {
    if let Some(user) = state.cache.get(&id) {
        state.hits.fetch_add(1, Relaxed);
        return Json(user);
    }
    state.misses.fetch_add(1, Relaxed);
    // The fetch runs outside the map: no lock is held across an await.
    let fetched = fetch_user(&state, id).await;
    // If another handler stored a record meanwhile, keep and return that one.
    let (user, _already_there) = state.cache.get_or_insert(id, fetched);
    Json(user)
}

async fn forget_user(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> &'static str {
    match state.cache.remove(&id) {
        Some(_) => "forgotten",
        None => "not cached",
    }
}

fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/users/{id}", get(get_user).delete(forget_user))
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
    let calls = (0..requests).map(|i| {
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
    });
    let mut users_seen = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        users_seen.push(call.await.expect("request task").expect("request"));
    }
    users_seen
}

#[tokio::main]
async fn main() {
    let state = Arc::new(AppState::default());
    let address = serve(Arc::clone(&state)).await;
    println!("serving on http://{address}");
    let users = load(address, 400, 20).await;
    println!(
        "{} responses; cache hits {}, misses {}, backend calls {}, cached users {}",
        users.len(),
        state.hits.load(Relaxed),
        state.misses.load(Relaxed),
        state.backend_calls.load(Relaxed),
        state.cache.len(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_share_one_cached_record_per_user() {
        let state = Arc::new(AppState::default());
        let address = serve(Arc::clone(&state)).await;
        let users = load(address, 300, 10).await;

        assert_eq!(users.len(), 300);
        assert_eq!(state.cache.len(), 10);
        // Every response for a user is the record the cache holds, even for
        // handlers that missed at the same time and fetched their own.
        for user in &users {
            assert_eq!(user.name, format!("user-{}", user.id));
            assert_eq!(Some(user), state.cache.get(&user.id).as_ref());
        }
        let (hits, misses) = (state.hits.load(Relaxed), state.misses.load(Relaxed));
        assert_eq!(hits + misses, 300);
        assert!(misses >= 10, "each user misses at least once");
        assert_eq!(state.backend_calls.load(Relaxed), misses);
    }

    #[tokio::test]
    async fn delete_forgets_a_user() {
        let state = Arc::new(AppState::default());
        let address = serve(Arc::clone(&state)).await;
        load(address, 1, 1).await;
        let client = reqwest::Client::new();
        let url = format!("http://{address}/users/0");
        let delete = || async {
            client
                .delete(&url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        assert_eq!(delete().await, "forgotten");
        assert_eq!(delete().await, "not cached");
        assert!(state.cache.is_empty());
    }
}
