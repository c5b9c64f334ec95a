//! What a shared counter costs in Rust alone: 10 000 concurrent increments, one per Tokio
//! task on a multi-thread runtime, with `tokio::sync::Mutex`, `std::sync::Mutex` and
//! `AtomicU64`, next to the same tasks doing nothing (the cost of the tasks themselves).
//!
//! ```sh
//! cargo run --release -p counter-cost
//! ```
//!
//! Prints the median of several runs of each, and each one's ratio to the atomic.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TASKS: u64 = 10_000;
const RUNS: usize = 21;

/// Spawns `TASKS` tasks that each call `increment` once, waits for all, returns the time.
async fn time_tasks<F>(increment: F) -> Duration
where
    F: Fn() + Clone + Send + 'static,
{
    let started = Instant::now();
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let increment = increment.clone();
            tokio::spawn(async move { increment() })
        })
        .collect();
    for handle in handles {
        handle.await.expect("an increment task panicked");
    }
    started.elapsed()
}

/// The same, for a `tokio::sync::Mutex`, whose `lock` is itself a future.
async fn time_tokio_mutex(count: Arc<tokio::sync::Mutex<u64>>) -> Duration {
    let started = Instant::now();
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let count = Arc::clone(&count);
            tokio::spawn(async move { *count.lock().await += 1 })
        })
        .collect();
    for handle in handles {
        handle.await.expect("an increment task panicked");
    }
    started.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .build()
        .expect("a Tokio runtime can be built on this machine");

    let mut results: Vec<(&str, Duration)> = Vec::new();
    runtime.block_on(async {
        let mut baseline = Vec::new();
        let mut tokio_mutex = Vec::new();
        let mut std_mutex = Vec::new();
        let mut atomic = Vec::new();
        // Run 0 is a warm-up (thread start, allocator); the others are measured. The four
        // variants alternate inside each run, so a slow moment hits all of them alike.
        for run in 0..=RUNS {
            let t0 = time_tasks(|| {
                black_box(());
            })
            .await;

            // ANCHOR: variants
            let count = Arc::new(tokio::sync::Mutex::new(0_u64));
            let t1 = time_tokio_mutex(Arc::clone(&count)).await;
            assert_eq!(*count.lock().await, TASKS);

            let count = Arc::new(std::sync::Mutex::new(0_u64));
            let shared = Arc::clone(&count);
            // `lock` fails only if a holder panicked (the lock is then "poisoned"); an
            // increment of a count that stays below 10 000 cannot panic.
            let t2 = time_tasks(move || *shared.lock().expect("never poisoned") += 1).await;
            assert_eq!(*count.lock().expect("never poisoned"), TASKS);

            let count = Arc::new(AtomicU64::new(0));
            let shared = Arc::clone(&count);
            // fetch_add wraps at u64::MAX; unreachable in practice (see the chapter).
            let t3 = time_tasks(move || {
                shared.fetch_add(1, Ordering::Relaxed);
            })
            .await;
            assert_eq!(count.load(Ordering::Relaxed), TASKS);
            // ANCHOR_END: variants

            if run > 0 {
                baseline.push(t0);
                tokio_mutex.push(t1);
                std_mutex.push(t2);
                atomic.push(t3);
            }
        }
        results = vec![
            ("tasks only (no counter)", median(baseline)),
            ("tokio::sync::Mutex<u64>", median(tokio_mutex)),
            ("std::sync::Mutex<u64>", median(std_mutex)),
            ("AtomicU64", median(atomic)),
        ];
    });

    let atomic = results[3].1.as_secs_f64();
    let baseline = results[0].1.as_secs_f64();
    println!(
        "{TASKS} increments, one Tokio task each, {} worker threads, median of {RUNS} runs\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| {:<24} | {:>9} | {:>13} | {:>15} | {:>12} |",
        "counter", "total", "per increment", "over bare tasks", "vs AtomicU64"
    );
    println!(
        "| {:-<24} | {:->9} | {:->13} | {:->15} | {:->12} |",
        "", "", "", "", ""
    );
    for (name, time) in &results {
        let secs = time.as_secs_f64();
        println!(
            "| {:<24} | {:>6.2} ms | {:>10.0} ns | {:>+12.0} ns | {:>11.2}x |",
            name,
            secs * 1e3,
            secs * 1e9 / TASKS as f64,
            (secs - baseline) * 1e9 / TASKS as f64,
            secs / atomic
        );
    }
}
