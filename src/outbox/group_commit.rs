//! Group commit of the dispatcher's lanes: the results several lanes
//! queue are written in one statement (`Outbox::finish_many`) by whichever
//! lane's turn comes, and each lane goes on once its own results are
//! committed. Only used with several lanes.

use jiff::Timestamp;

use crate::store::{Outbox, Outcome, Store, StoreError};

/// The lanes' records, written together ("group commit"): a lane queues its
/// results, then waits for its turn to write; whoever writes takes every
/// result queued by then (its own and other lanes'), in one statement
/// (`Outbox::finish_many`), and hands each lane its answer. A lane goes on
/// only after its own results have committed, so the bound on unrecorded
/// messages per lane is unchanged. Only with several lanes: one lane writes
/// its own records directly.
#[derive(Default)]
pub(super) struct Group {
    queued: std::sync::Mutex<Vec<Queued>>,
    turn: tokio::sync::Mutex<()>,
}

struct Queued {
    outcomes: Vec<(i64, Outcome)>,
    /// `None`: the write that took these results failed.
    answer: tokio::sync::oneshot::Sender<Option<Vec<bool>>>,
}

impl Group {
    pub(super) async fn finish(
        &self,
        store: &Store,
        owner: &str,
        outcomes: Vec<(i64, Outcome)>,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        let (answer, mut mine) = tokio::sync::oneshot::channel();
        // Kept to write alone if a group write that took them fails.
        let alone = outcomes.clone();
        self.lock_queue().push(Queued { outcomes, answer });
        let _turn = self.turn.lock().await;
        match mine.try_recv() {
            Ok(Some(done)) => return Ok(done),
            // Another lane's write took ours and failed: write ours alone,
            // so this lane gets its own error (or success).
            Ok(None) | Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                return store.finish_many(owner, alone, now).await;
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
        }
        let taken = std::mem::take(&mut *self.lock_queue());
        let all: Vec<(i64, Outcome)> = taken
            .iter()
            .flat_map(|q| q.outcomes.iter().cloned())
            .collect();
        match store.finish_many(owner, all, now).await {
            Ok(done) => {
                let mut done = done.into_iter();
                for q in taken {
                    let part: Vec<bool> = done.by_ref().take(q.outcomes.len()).collect();
                    let _ = q.answer.send(Some(part));
                }
            }
            Err(e) => {
                for q in taken {
                    let _ = q.answer.send(None);
                }
                return Err(e);
            }
        }
        match mine.try_recv() {
            Ok(Some(done)) => Ok(done),
            // Ours was among those taken and answered just above.
            _ => store.finish_many(owner, alone, now).await,
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        // Never held across an await; a panic while holding it is a bug
        // elsewhere, and the list stays usable.
        self.queued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
