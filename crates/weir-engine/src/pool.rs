//! The node's pool of in-flight actions: how many actions run at once, and who gets the next
//! free slot. Actions are tasks of their own; each waits here for a slot before it touches the
//! world, so a full pool makes actions wait (and workers claim less, see [`ActionPool::room`])
//! instead of making the node run out of memory or sockets.
//!
//! Fairness: no tenant holds more than three quarters of the slots, so a quarter is always
//! left for the others however slow one tenant's calls are; and a freed slot goes to the
//! tenants with waiting actions in turn, not to whoever queued first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// The default of how many actions a node has in flight at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

#[derive(Clone)]
pub struct ActionPool {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    /// The most slots one tenant may hold.
    tenant_cap: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    /// Slots held, by tenant (tenants holding none are removed).
    held: HashMap<String, usize>,
    /// Actions waiting for a slot, by tenant, in the order they asked.
    queues: HashMap<String, VecDeque<oneshot::Sender<()>>>,
    /// Tenants with waiting actions, in the order they get the next slot.
    turn: VecDeque<String>,
    waiting: usize,
}

/// A slot in the pool, given back when dropped (the action finished or was aborted).
pub struct Slot {
    inner: Arc<Inner>,
    tenant: String,
}

impl ActionPool {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        ActionPool {
            inner: Arc::new(Inner {
                capacity,
                tenant_cap: (capacity - capacity / 4).max(1),
                state: Mutex::new(State::default()),
            }),
        }
    }

    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// Actions running now.
    pub fn running(&self) -> usize {
        self.inner.state.lock().expect("pool lock").running
    }

    /// How many more actions the pool can take before they have to wait: what a worker may
    /// claim.
    pub fn room(&self) -> usize {
        let s = self.inner.state.lock().expect("pool lock");
        self.inner.capacity.saturating_sub(s.running + s.waiting)
    }

    /// What a worker may claim: how many executions, and of which tenants not. A tenant at its
    /// share of the pool gets nothing more claimed (its actions would only wait), and the
    /// free slots are there for the others: the actions of a tenant that fills its share do
    /// not stop every other tenant's work from being claimed.
    pub fn claimable(&self) -> (usize, Vec<String>) {
        let s = self.inner.state.lock().expect("pool lock");
        let full: Vec<String> = s
            .held
            .iter()
            .filter(|(_, n)| **n >= self.inner.tenant_cap)
            .map(|(t, _)| t.clone())
            .collect();
        let waiting_others: usize = s
            .queues
            .iter()
            .filter(|(t, _)| !full.contains(t))
            .map(|(_, q)| q.len())
            .sum();
        let room = self
            .inner
            .capacity
            .saturating_sub(s.running + waiting_others);
        (room, full)
    }

    /// Waits for a slot for one of `tenant`'s actions. Dropping the future while it waits
    /// gives up its place (the slot goes to the next in turn).
    pub async fn slot(&self, tenant: &str) -> Slot {
        let waiting = {
            let mut s = self.inner.state.lock().expect("pool lock");
            let held = s.held.get(tenant).copied().unwrap_or(0);
            if s.running < self.inner.capacity
                && held < self.inner.tenant_cap
                && !s.queues.contains_key(tenant)
            {
                s.running += 1;
                *s.held.entry(tenant.to_owned()).or_default() += 1;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                match s.queues.get_mut(tenant) {
                    Some(q) => q.push_back(tx),
                    None => {
                        s.queues.insert(tenant.to_owned(), VecDeque::from([tx]));
                        s.turn.push_back(tenant.to_owned());
                    }
                }
                s.waiting += 1;
                Some(rx)
            }
        };
        if let Some(rx) = waiting {
            // The sender is only dropped unsent with the pool itself, which outlives every
            // action; either way the slot is accounted for by then.
            let _ = rx.await;
        }
        Slot {
            inner: self.inner.clone(),
            tenant: tenant.to_owned(),
        }
    }
}

impl Inner {
    /// Hands free slots to waiting actions, one tenant at a time in turn.
    fn dispatch(&self, s: &mut State) {
        let mut passes = s.turn.len();
        while s.running < self.capacity && passes > 0 {
            let Some(tenant) = s.turn.pop_front() else {
                break;
            };
            if s.held.get(&tenant).copied().unwrap_or(0) >= self.tenant_cap {
                // At its share: it waits for one of its own actions to finish.
                s.turn.push_back(tenant);
                passes -= 1;
                continue;
            }
            let Some(queue) = s.queues.get_mut(&tenant) else {
                continue;
            };
            let mut given = false;
            while let Some(tx) = queue.pop_front() {
                s.waiting -= 1;
                if tx.send(()).is_ok() {
                    given = true;
                    break;
                }
                // Its action was aborted while it waited.
            }
            if queue.is_empty() {
                s.queues.remove(&tenant);
            } else {
                s.turn.push_back(tenant.clone());
            }
            if given {
                s.running += 1;
                *s.held.entry(tenant).or_default() += 1;
                passes = s.turn.len();
            } else {
                passes = passes.saturating_sub(1).min(s.turn.len());
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.inner.state.lock().expect("pool lock");
        s.running -= 1;
        if let Some(n) = s.held.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                s.held.remove(&self.tenant);
            }
        }
        self.inner.dispatch(&mut s);
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};

    use super::*;

    /// Whether a future is still waiting when polled once.
    fn waits<F: Future>(f: &mut Pin<Box<F>>) -> bool {
        f.as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    }

    #[tokio::test]
    async fn a_tenant_gets_at_most_three_quarters_and_freed_slots_go_round() {
        let pool = ActionPool::new(4);
        let a: Vec<Slot> = vec![
            pool.slot("a").await,
            pool.slot("a").await,
            pool.slot("a").await,
        ];
        assert_eq!(pool.running(), 3);
        // A fourth for `a` waits although a slot is free; `b` takes it at once.
        let mut a4 = Box::pin(pool.slot("a"));
        assert!(waits(&mut a4));
        let b1 = pool.slot("b").await;
        assert_eq!(pool.running(), 4);
        assert_eq!(pool.room(), 0);
        // Full: `b` and `c` wait behind `a`'s queued action, and get slots in turn.
        let mut b2 = Box::pin(pool.slot("b"));
        let mut c1 = Box::pin(pool.slot("c"));
        assert!(waits(&mut b2));
        assert!(waits(&mut c1));
        drop(b1);
        // `a` is at its share, so the freed slot goes to the next tenant in turn, `b`.
        assert!(waits(&mut a4));
        let b2 = b2.await;
        drop(a);
        let c1 = c1.await;
        let a4 = a4.await;
        assert_eq!(pool.running(), 3);
        drop((b2, c1, a4));
        assert_eq!(pool.running(), 0);
        assert_eq!(pool.room(), 4);
    }

    #[tokio::test]
    async fn an_action_aborted_while_it_waits_gives_up_its_place() {
        let pool = ActionPool::new(1);
        let held = pool.slot("a").await;
        let mut gone = Box::pin(pool.slot("b"));
        assert!(waits(&mut gone));
        let mut next = Box::pin(pool.slot("b"));
        assert!(waits(&mut next));
        drop(gone);
        drop(held);
        let _next = next.await;
        assert_eq!(pool.running(), 1);
    }
}
