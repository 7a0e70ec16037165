//! The writer: one thread that owns the store's write connection and group-commits the
//! batches that requests queue for it.
//!
//! Requests put a [`Job`] on a bounded queue ([`Queue::try_send`] fails when it is full: the
//! handler answers 429). The writer takes the first job waiting, then every job already
//! queued up to [`crate::Config::group_receipts`] receipts, and appends the jobs of each
//! deployment in one transaction ([`lcm_store::Store::append_keyed`]): inside it, each job's
//! batch key is looked up (a retry gets the receipts its first attempt appended), its request
//! ids checked against the chain and the rest of the group, and its receipts made after the
//! real head. A job's answer is sent only after the commit returned: acknowledged means
//! durable.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc as std_mpsc;

use lcm_crypto::Digest;
use lcm_managers::ReceiptChain;
use lcm_store::pipeline::{self, Release, RequestLine};
use lcm_store::{BatchKeyRow, ChainHead, Error as StoreError, NewReceipt, Store, StoredReceipt};
use tokio::sync::{mpsc, oneshot};

use crate::Error;

/// One request's batch, queued for the writer.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) deployment: String,
    pub(crate) key: Option<String>,
    pub(crate) body: Digest,
    pub(crate) lines: Vec<RequestLine>,
    pub(crate) reply: oneshot::Sender<Result<Appended, Error>>,
}

/// What a job appended (or, for a retry, appended the first time).
#[derive(Debug)]
pub(crate) struct Appended {
    pub(crate) receipts: Vec<StoredReceipt>,
    pub(crate) replayed: bool,
}

/// The sending side of the writer's queue.
pub(crate) type Queue = mpsc::Sender<Job>;

/// A deployment's release and the chain its receipts are made on.
struct Chain {
    release: Release,
    chain: ReceiptChain,
}

/// What became of one job inside the transaction.
enum Outcome {
    /// Receipts `range` of the transaction's receipts are this job's.
    New(std::ops::Range<usize>),
    /// A retry: the receipts the key recorded.
    Replay(BatchKeyRow),
    /// The same key as job `usize` of this group, with the same body.
    SameAs(usize),
    Failed(Error),
}

/// Runs the writer until every sender of the queue is dropped and the queue is empty.
pub(crate) fn run(mut store: Box<dyn Store>, mut rx: mpsc::Receiver<Job>, group_receipts: usize) {
    let (ckpt_tx, ckpt_rx) = std_mpsc::sync_channel::<()>(1);
    let ckpt = match store.checkpointer() {
        Ok(Some(checkpointer)) => Some(std::thread::spawn(move || {
            while ckpt_rx.recv().is_ok() {
                // A failed checkpoint loses nothing: the frames stay for the next one.
                let _ = checkpointer.checkpoint();
            }
            let _ = checkpointer.checkpoint();
        })),
        _ => None,
    };
    let mut chains: HashMap<String, Chain> = HashMap::new();
    while let Some(first) = rx.blocking_recv() {
        let mut total = first.lines.len();
        let mut group = vec![first];
        while total < group_receipts {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.lines.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // The jobs of each deployment, in arrival order.
        let mut by_deployment: Vec<(String, Vec<Job>)> = Vec::new();
        for job in group {
            match by_deployment.iter_mut().find(|(d, _)| *d == job.deployment) {
                Some((_, jobs)) => jobs.push(job),
                None => by_deployment.push((job.deployment.clone(), vec![job])),
            }
        }
        for (deployment, jobs) in by_deployment {
            commit_group(&mut *store, &mut chains, &deployment, jobs);
        }
        let _ = ckpt_tx.try_send(());
    }
    drop(ckpt_tx);
    if let Some(t) = ckpt {
        let _ = t.join();
    }
}

/// The release and chain of `deployment`, checked again for every group (a deployment
/// stopped since the last one is refused).
fn chain_for<'c>(
    store: &mut dyn Store,
    chains: &'c mut HashMap<String, Chain>,
    deployment: &str,
) -> Result<&'c mut Chain, StoreError> {
    let model = pipeline::model_of(store, deployment)?;
    let release = pipeline::resolve_release(store, &model, deployment)?;
    if !chains.contains_key(deployment) {
        let policy = store.policy()?;
        let seed = store.open_chain(deployment)?;
        let chain = ReceiptChain::from_seed(&policy, &seed);
        chains.insert(deployment.to_owned(), Chain { release, chain });
    }
    let c = chains
        .get_mut(deployment)
        .ok_or_else(|| StoreError::NoChain {
            deployment: deployment.to_owned(),
        })?;
    c.release = release;
    Ok(c)
}

fn commit_group(
    store: &mut dyn Store,
    chains: &mut HashMap<String, Chain>,
    deployment: &str,
    jobs: Vec<Job>,
) {
    let chain = match chain_for(store, chains, deployment) {
        Ok(c) => c,
        Err(e) => {
            let e = Error::from_store(e);
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
            return;
        }
    };
    match append_jobs(store, chain, deployment, &jobs) {
        Ok((receipts, outcomes)) => answer(store, deployment, jobs, &receipts, outcomes),
        // One receipt id already in the chain (or another store-level refusal) fails the
        // whole transaction: commit the jobs one by one so only the offending one fails.
        Err(_) if jobs.len() > 1 => {
            for job in jobs {
                commit_group(store, chains, deployment, vec![job]);
            }
        }
        Err(e) => {
            let e = Error::from_store(e);
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

/// Appends `jobs` in one transaction; returns the committed receipts and each job's outcome.
fn append_jobs(
    store: &mut dyn Store,
    chain: &mut Chain,
    deployment: &str,
    jobs: &[Job],
) -> Result<(Vec<StoredReceipt>, Vec<Outcome>), StoreError> {
    let mut outcomes = Vec::new();
    let committed = store.append_keyed(deployment, &mut |s, head| {
        outcomes.clear();
        let mut receipts: Vec<NewReceipt> = Vec::new();
        let mut keys: Vec<BatchKeyRow> = Vec::new();
        let mut head: Option<ChainHead> = head;
        let mut group_ids: HashSet<&str> = HashSet::new();
        let mut group_keys: HashMap<&str, (Digest, usize)> = HashMap::new();
        for (index, job) in jobs.iter().enumerate() {
            if let Some(key) = job.key.as_deref() {
                if let Some(&(body, first)) = group_keys.get(key) {
                    outcomes.push(if bool::from(body.ct_eq(&job.body)) {
                        Outcome::SameAs(first)
                    } else {
                        Outcome::Failed(Error::KeyReused)
                    });
                    continue;
                }
                if let Some(row) = s.batch_key(deployment, key)? {
                    outcomes.push(if bool::from(row.body.ct_eq(&job.body)) {
                        Outcome::Replay(row)
                    } else {
                        Outcome::Failed(Error::KeyReused)
                    });
                    continue;
                }
            }
            if let Err(e) = pipeline::refuse_repeats(s, deployment, &job.lines) {
                outcomes.push(Outcome::Failed(Error::from_store(e)));
                continue;
            }
            if let Some(l) = job
                .lines
                .iter()
                .find(|l| group_ids.contains(l.request_id.as_str()))
            {
                outcomes.push(Outcome::Failed(Error::from_store(
                    StoreError::RepeatedRequest {
                        deployment: deployment.to_owned(),
                        request_id: l.request_id.clone(),
                    },
                )));
                continue;
            }
            let made =
                match pipeline::make_receipts(&mut chain.chain, chain.release, head, &job.lines) {
                    Ok(m) => m,
                    Err(e) => {
                        outcomes.push(Outcome::Failed(Error::from_store(e)));
                        continue;
                    }
                };
            let (Some(first), Some(last)) = (made.first(), made.last()) else {
                outcomes.push(Outcome::Failed(Error::Input("an empty batch".to_owned())));
                continue;
            };
            if let Some(key) = job.key.as_deref() {
                group_keys.insert(key, (job.body, index));
                keys.push(BatchKeyRow {
                    key: key.to_owned(),
                    body: job.body,
                    first_sequence: first.stored.sequence,
                    count: u64::try_from(made.len()).unwrap_or(u64::MAX),
                });
            }
            head = Some(ChainHead {
                sequence: last.stored.sequence,
                digest: last.stored.digest,
            });
            group_ids.extend(job.lines.iter().map(|l| l.request_id.as_str()));
            let start = receipts.len();
            receipts.extend(made);
            outcomes.push(Outcome::New(start..receipts.len()));
        }
        Ok((receipts, keys))
    })?;
    Ok((committed, outcomes))
}

/// Sends each job its answer, after the commit.
fn answer(
    store: &dyn Store,
    deployment: &str,
    jobs: Vec<Job>,
    receipts: &[StoredReceipt],
    outcomes: Vec<Outcome>,
) {
    let mut answers: Vec<Result<Appended, Error>> = Vec::with_capacity(jobs.len());
    for outcome in outcomes {
        let a = match outcome {
            Outcome::New(range) => Ok(Appended {
                receipts: receipts.get(range).map(<[_]>::to_vec).unwrap_or_default(),
                replayed: false,
            }),
            Outcome::Replay(row) => recorded(store, deployment, &row),
            Outcome::SameAs(i) => match answers.get(i) {
                Some(Ok(a)) => Ok(Appended {
                    receipts: a.receipts.clone(),
                    replayed: true,
                }),
                Some(Err(e)) => Err(e.clone()),
                None => Err(Error::Internal(
                    "a batch key's first job is missing".to_owned(),
                )),
            },
            Outcome::Failed(e) => Err(e),
        };
        answers.push(a);
    }
    for (job, a) in jobs.into_iter().zip(answers) {
        let _ = job.reply.send(a);
    }
}

/// The receipts a recorded batch key appended.
fn recorded(store: &dyn Store, deployment: &str, row: &BatchKeyRow) -> Result<Appended, Error> {
    let last = row
        .first_sequence
        .checked_add(row.count.saturating_sub(1))
        .ok_or_else(|| Error::Internal("a batch key beyond the chain".to_owned()))?;
    let mut receipts = Vec::new();
    store
        .scan_receipts(deployment, row.first_sequence, Some(last), &mut |r| {
            receipts.push(r);
            Ok(())
        })
        .map_err(Error::from_store)?;
    if u64::try_from(receipts.len()).ok() != Some(row.count) {
        return Err(Error::Internal(format!(
            "batch key {} names {} receipts, the chain holds {}",
            row.key,
            row.count,
            receipts.len()
        )));
    }
    Ok(Appended {
        receipts,
        replayed: true,
    })
}
