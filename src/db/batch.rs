//! Batched reads: many callers asking for rows by key share one query.
//!
//! A connect storm (a deploy: every socket reconnects at once) asks for thousands of
//! snapshots and block sets within seconds. Read one by one, each would check out a
//! connection and run its own queries, and the pool (10 connections, shared with the
//! writes) would time out. A [`BatchReader`] instead queues the keys and reads them
//! `WHERE … = ANY($1)`: while a read is in flight, the keys that arrive wait and go
//! together in the next one, so the number of queries follows the number of batches, not
//! of callers, and the reader never holds more than `concurrency` connections. An idle
//! reader answers a lone caller at once (a batch of one).
//!
//! The queue is bounded: a caller that finds it full is refused at once
//! ([`ReadError::Busy`]) rather than queued without end, and a caller that stopped
//! waiting (its window closed) is skipped when its batch is formed.

use super::DbError;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Why a batched read gave no rows.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReadError {
    /// The queue is full (or the caller waited longer than the reader allows): try later.
    #[error("too many reads are waiting")]
    Busy,
    /// The read failed; every caller of its batch gets the same error.
    #[error("the batched read failed")]
    Failed(#[source] Arc<DbError>),
    /// The reader stopped (the node is shutting down).
    #[error("the reader stopped")]
    Stopped,
}

/// How a reader batches.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Callers that may wait; more are refused as [`ReadError::Busy`].
    pub waiting: usize,
    /// Keys per query.
    pub max_batch: usize,
    /// Reads in flight at once: the most connections the reader holds.
    pub concurrency: usize,
    /// A caller that waited this long before its batch formed is refused as busy.
    pub max_wait: Duration,
}

struct Request<K, V> {
    key: K,
    asked: Instant,
    reply: oneshot::Sender<Result<V, ReadError>>,
}

/// A handle on a batching reader; cheap to clone.
pub struct BatchReader<K, V> {
    requests: mpsc::Sender<Request<K, V>>,
}

impl<K, V> Clone for BatchReader<K, V> {
    fn clone(&self) -> Self {
        BatchReader {
            requests: self.requests.clone(),
        }
    }
}

impl<K, V> BatchReader<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Starts a reader on the current runtime. `load` reads a batch of distinct keys and
    /// returns a value for each key it knows; a key it leaves out gets `V::default()`
    /// (no rows). It is called with at most `limits.max_batch` keys, at most
    /// `limits.concurrency` at a time.
    pub fn start<F, Fut>(limits: BatchLimits, load: F) -> Self
    where
        V: Default,
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<HashMap<K, V>, DbError>> + Send + 'static,
    {
        let (requests, queue) = mpsc::channel(limits.waiting.max(1));
        tokio::spawn(run(queue, limits, Arc::new(load)));
        BatchReader { requests }
    }

    /// Reads `key`, in whichever batch it joins.
    pub async fn read(&self, key: K) -> Result<V, ReadError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            key,
            asked: Instant::now(),
            reply,
        };
        self.requests.try_send(request).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => ReadError::Busy,
            mpsc::error::TrySendError::Closed(_) => ReadError::Stopped,
        })?;
        answer.await.unwrap_or(Err(ReadError::Stopped))
    }
}

async fn run<K, V, F, Fut>(
    mut queue: mpsc::Receiver<Request<K, V>>,
    limits: BatchLimits,
    load: Arc<F>,
) where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Default + Send + 'static,
    F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HashMap<K, V>, DbError>> + Send + 'static,
{
    let in_flight = Arc::new(Semaphore::new(limits.concurrency.max(1)));
    loop {
        // Wait for a free read first: the keys that arrive meanwhile join this batch.
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = queue.recv().await else {
            return;
        };
        let mut batch = Vec::with_capacity(limits.max_batch.min(64));
        let mut next = Some(first);
        while let Some(request) = next.take() {
            if request.reply.is_closed() {
                // Its caller left.
            } else if request.asked.elapsed() > limits.max_wait {
                let _ = request.reply.send(Err(ReadError::Busy));
            } else {
                batch.push(request);
            }
            if batch.len() < limits.max_batch {
                next = queue.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        let load = load.clone();
        tokio::spawn(async move {
            let mut keys: Vec<K> = batch.iter().map(|r| r.key.clone()).collect();
            dedup(&mut keys);
            let result = load(keys).await;
            drop(permit);
            match result {
                Ok(mut values) => {
                    for request in batch {
                        let value = values.get(&request.key).cloned().unwrap_or_default();
                        let _ = request.reply.send(Ok(value));
                    }
                    values.clear();
                }
                Err(e) => {
                    let e = Arc::new(e);
                    for request in batch {
                        let _ = request.reply.send(Err(ReadError::Failed(e.clone())));
                    }
                }
            }
        });
    }
}

/// Keeps the first of each key, in order.
fn dedup<K: Eq + Hash + Clone>(keys: &mut Vec<K>) {
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.retain(|k| seen.insert(k.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn limits(waiting: usize) -> BatchLimits {
        BatchLimits {
            waiting,
            max_batch: 100,
            concurrency: 1,
            max_wait: Duration::from_secs(5),
        }
    }

    /// The batches a reader's loads were given, in order.
    type Batches = Arc<Mutex<Vec<Vec<u32>>>>;

    /// A reader whose loads wait for `gate` and record the batches they were given.
    fn recording(limits: BatchLimits, gate: Arc<Semaphore>) -> (BatchReader<u32, u32>, Batches) {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = batches.clone();
        let reader = BatchReader::start(limits, move |keys: Vec<u32>| {
            let (seen, gate) = (seen.clone(), gate.clone());
            async move {
                let _open = gate.acquire().await.expect("gate open");
                seen.lock().unwrap().push(keys.clone());
                Ok(keys
                    .into_iter()
                    .filter(|k| k % 2 == 0)
                    .map(|k| (k, k * 10))
                    .collect())
            }
        });
        (reader, batches)
    }

    #[tokio::test]
    async fn callers_that_arrive_during_a_read_share_the_next_one() {
        let gate = Arc::new(Semaphore::new(0));
        let (reader, batches) = recording(limits(1000), gate.clone());
        let first = tokio::spawn({
            let reader = reader.clone();
            async move { reader.read(2).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let rest: Vec<_> = (3..=50u32)
            .map(|k| {
                let reader = reader.clone();
                tokio::spawn(async move { (k, reader.read(k).await) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        gate.add_permits(100);
        assert_eq!(first.await.unwrap().unwrap(), 20);
        for handle in rest {
            let (k, value) = handle.await.unwrap();
            let expected = if k % 2 == 0 { k * 10 } else { 0 };
            assert_eq!(value.unwrap(), expected, "key {k}");
        }
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 2, "one read for the first, one for the rest");
        assert_eq!(batches[0], vec![2]);
        assert_eq!(batches[1].len(), 48);
    }

    #[tokio::test]
    async fn a_key_asked_twice_is_read_once_and_both_callers_get_it() {
        let gate = Arc::new(Semaphore::new(0));
        let (reader, batches) = recording(limits(1000), gate.clone());
        let blocker = tokio::spawn({
            let reader = reader.clone();
            async move { reader.read(0).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (a, b) = (reader.clone(), reader.clone());
        let twice = tokio::spawn(async move { tokio::join!(a.read(4), b.read(4)) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        gate.add_permits(10);
        blocker.await.unwrap().unwrap();
        let (x, y) = twice.await.unwrap();
        assert_eq!((x.unwrap(), y.unwrap()), (40, 40));
        assert_eq!(batches.lock().unwrap()[1], vec![4]);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let gate = Arc::new(Semaphore::new(0));
        let (reader, _) = recording(limits(2), gate.clone());
        let spawn_read = |k: u32| {
            let reader = reader.clone();
            tokio::spawn(async move { reader.read(k).await })
        };
        // One read in flight (held at the gate), then two waiting: the queue is full.
        let mut waiting = vec![spawn_read(0)];
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting.extend([spawn_read(2), spawn_read(4)]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = tokio::time::timeout(Duration::from_millis(100), reader.read(9))
            .await
            .expect("answered at once");
        assert!(matches!(refused, Err(ReadError::Busy)), "{refused:?}");
        gate.add_permits(10);
        for w in waiting {
            w.await.unwrap().expect("the queued reads are served");
        }
    }

    #[tokio::test]
    async fn a_failed_read_fails_every_caller_of_its_batch_and_the_reader_goes_on() {
        let calls = Arc::new(Mutex::new(0));
        let counted = calls.clone();
        let reader: BatchReader<u32, u32> = BatchReader::start(limits(100), move |keys| {
            let counted = counted.clone();
            async move {
                let mut n = counted.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    return Err(DbError::Pool(bb8::RunError::TimedOut));
                }
                Ok(keys.into_iter().map(|k| (k, k)).collect())
            }
        });
        assert!(matches!(reader.read(1).await, Err(ReadError::Failed(_))));
        assert_eq!(reader.read(7).await.unwrap(), 7);
    }
}
