//! Doing one thing for many profiles at once (`each`): a bounded pool for the credential calls,
//! the commands run side by side with their output merged line by line, and the summary.
//! Nothing here knows about AWS: the command hands in names, work and prepared commands.

pub mod children;
pub mod summary;
pub mod terminal;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Calls `work` on every item, at most `parallel` at a time, in order of the items, and returns
/// the results in that order. Once `stop` says yes to a result, items not yet begun are skipped
/// (`None`); those under way finish. `finished` is told how many are done after each.
pub fn map_bounded<T: Sync, R: Send>(
    items: &[T],
    parallel: usize,
    work: impl Fn(&T) -> R + Sync,
    stop: impl Fn(&R) -> bool + Sync,
    finished: impl Fn(usize) + Sync,
) -> Vec<Option<R>> {
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                while !stopped.load(Ordering::SeqCst) {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(index) else { break };
                    let result = work(item);
                    if stop(&result) {
                        stopped.store(true, Ordering::SeqCst);
                    }
                    *results[index]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
                    finished(done.fetch_add(1, Ordering::SeqCst) + 1);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_pool_keeps_order_and_its_bound() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items: Vec<usize> = (0..20).collect();
        let results = map_bounded(
            &items,
            3,
            |i| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            },
            |_| false,
            |_| {},
        );
        assert_eq!(
            results,
            items.iter().map(|i| Some(i * 2)).collect::<Vec<_>>()
        );
        assert!(most.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn a_stop_skips_what_has_not_begun() {
        let items: Vec<usize> = (0..10).collect();
        let results = map_bounded(&items, 1, |i| *i, |r| *r == 2, |_| {});
        assert_eq!(results[..3], [Some(0), Some(1), Some(2)]);
        assert!(results[3..].iter().all(Option::is_none));
        assert!(map_bounded(&[] as &[u8], 4, |_| (), |()| false, |_| {}).is_empty());
    }
}
