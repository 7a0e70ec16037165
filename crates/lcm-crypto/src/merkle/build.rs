//! Batch construction of the stored tree levels, cache-friendly and optionally parallel.
//!
//! # Layout
//!
//! Level 0 holds the leaf hashes, level `j` holds `ceil(n / 2^j)` nodes, and node `i` of level
//! `j` is `node(level[j-1][2i], level[j-1][2i+1])`, or `level[j-1][2i]` unchanged when that is
//! the lone last node of an odd-length level. Promoting (not duplicating) the lone node is
//! exactly RFC 9162's split at the largest power of two smaller than the size, so the top
//! level is the RFC root, and every stored node is the root of a complete, aligned subtree or
//! of the ragged right edge.
//!
//! # Order of work
//!
//! The leaves are cut into aligned chunks of `2^CHUNK_LOG` leaves. A chunk's leaf hashes and
//! all its levels up to `CHUNK_LOG` only depend on that chunk, so each chunk is finished while
//! its data is still in the L1/L2 cache, and chunks can run on different threads. The few
//! levels above the chunks are computed at the end. Nothing is allocated per node: the levels
//! are allocated once, zeroed (which the allocator does lazily), and then written in place.

use crate::HashAlgorithm;
use crate::merkle::hashing::{self, Node};

/// Leaves per chunk (log2). 1024 leaves: 32 KiB of leaf hashes plus 32 KiB of nodes above.
const CHUNK_LOG: usize = 10;

/// Below this many leaves, one thread is faster than splitting the work.
#[cfg(feature = "parallel")]
pub(crate) const PARALLEL_MIN_LEAVES: usize = 1 << 14;

/// Chunks per sequential task in the `rayon::join` recursion (`2^14` leaves).
#[cfg(feature = "parallel")]
const SEQUENTIAL_CHUNKS: usize = PARALLEL_MIN_LEAVES >> CHUNK_LOG;

/// The level lengths of a tree of `n` leaves, from the leaves up to the root (empty for 0).
pub(crate) fn level_lens(n: usize) -> Vec<usize> {
    let mut lens = Vec::new();
    let mut len = n;
    if len == 0 {
        return lens;
    }
    lens.push(len);
    while len > 1 {
        len = len.div_ceil(2);
        lens.push(len);
    }
    lens
}

/// Zeroed levels above the leaves for a tree of `n` leaves.
fn alloc_upper(n: usize) -> Vec<Vec<Node>> {
    level_lens(n)
        .into_iter()
        .skip(1)
        .map(|len| vec![[0u8; 32]; len])
        .collect()
}

/// One aligned chunk: its slice of each of the lowest levels.
struct Job<'a> {
    levels: Vec<&'a mut [Node]>,
}

impl Job<'_> {
    /// Computes the chunk's levels above its (already filled) leaf hashes.
    fn build(&mut self, algorithm: HashAlgorithm) {
        for j in 1..self.levels.len() {
            let (lower, upper) = self.levels.split_at_mut(j);
            if let (Some(src), Some(dst)) = (lower.last(), upper.first_mut()) {
                hashing::level_into(algorithm, src, dst);
            }
        }
    }
}

/// Splits the lowest `min(CHUNK_LOG, top) + 1` levels into chunk jobs.
fn jobs<'a>(leaves: &'a mut [Node], upper: &'a mut [Vec<Node>]) -> Vec<Job<'a>> {
    let c = CHUNK_LOG.min(upper.len());
    let count = leaves.len().div_ceil(1 << c);
    let mut jobs: Vec<Job<'a>> = (0..count)
        .map(|_| Job {
            levels: Vec::with_capacity(c + 1),
        })
        .collect();
    for (job, slice) in jobs.iter_mut().zip(leaves.chunks_mut(1 << c)) {
        job.levels.push(slice);
    }
    for (j, level) in upper.iter_mut().take(c).enumerate() {
        // Level j + 1: a chunk covers 2^(c - j - 1) of its nodes.
        for (job, slice) in jobs.iter_mut().zip(level.chunks_mut(1 << (c - j - 1))) {
            job.levels.push(slice);
        }
    }
    jobs
}

/// Computes the levels above the chunks, sequentially (there are few nodes there).
fn finish_top(algorithm: HashAlgorithm, leaves: &[Node], upper: &mut [Vec<Node>]) {
    let c = CHUNK_LOG.min(upper.len());
    for j in c..upper.len() {
        let (lower, rest) = upper.split_at_mut(j);
        let src: &[Node] = match lower.last() {
            Some(level) => level,
            None => leaves,
        };
        if let Some(dst) = rest.first_mut() {
            hashing::level_into(algorithm, src, dst);
        }
    }
}

/// Builds all levels above the given leaf hashes.
pub(crate) fn from_leaf_hashes(algorithm: HashAlgorithm, mut leaves: Vec<Node>) -> Vec<Vec<Node>> {
    let mut upper = alloc_upper(leaves.len());
    {
        let mut jobs = jobs(&mut leaves, &mut upper);
        #[cfg(feature = "parallel")]
        if leaves_len(&jobs) >= PARALLEL_MIN_LEAVES && rayon::current_num_threads() > 1 {
            join_jobs(algorithm, &mut jobs);
        } else {
            jobs.iter_mut().for_each(|job| job.build(algorithm));
        }
        #[cfg(not(feature = "parallel"))]
        jobs.iter_mut().for_each(|job| job.build(algorithm));
    }
    finish_top(algorithm, &leaves, &mut upper);
    let mut levels = Vec::with_capacity(upper.len() + 1);
    levels.push(leaves);
    levels.extend(upper);
    levels
}

#[cfg(feature = "parallel")]
fn leaves_len(jobs: &[Job<'_>]) -> usize {
    jobs.iter()
        .map(|j| j.levels.first().map_or(0, |l| l.len()))
        .sum()
}

/// RFC 9162's recursion on chunks: split at the largest power of two below the count, run the
/// halves with `rayon::join`, and stop splitting at `SEQUENTIAL_CHUNKS`.
#[cfg(feature = "parallel")]
fn join_jobs(algorithm: HashAlgorithm, jobs: &mut [Job<'_>]) {
    if jobs.len() <= SEQUENTIAL_CHUNKS {
        jobs.iter_mut().for_each(|job| job.build(algorithm));
        return;
    }
    let k = super::tree::split(jobs.len());
    let (left, right) = jobs.split_at_mut(k);
    rayon::join(
        || join_jobs(algorithm, left),
        || join_jobs(algorithm, right),
    );
}

/// The outcome of building from an iterator that promised `n` items.
pub(crate) enum Built {
    /// The iterator delivered exactly the promised number of items.
    Done(Vec<Vec<Node>>),
    /// It delivered a different number; here are the leaf hashes of everything it delivered.
    Miscounted(Vec<Node>),
}

/// Builds from an iterator whose size hint promised exactly `n` items, hashing each chunk's
/// leaves right before building the chunk's levels. Falls back to the leaf hashes if the
/// iterator breaks its promise (safe code may implement a wrong size hint).
pub(crate) fn from_exact_iter<I>(algorithm: HashAlgorithm, n: usize, mut iter: I) -> Built
where
    I: Iterator,
    I::Item: AsRef<[u8]>,
{
    #[cfg(feature = "parallel")]
    if n >= PARALLEL_MIN_LEAVES && rayon::current_num_threads() > 1 {
        return from_exact_iter_parallel(algorithm, n, iter);
    }
    let mut leaves = vec![[0u8; 32]; n];
    let mut upper = alloc_upper(n);
    let mut delivered = 0usize;
    {
        let mut jobs = jobs(&mut leaves, &mut upper);
        for job in &mut jobs {
            let Some(dst) = job.levels.first_mut() else {
                continue;
            };
            let filled = hashing::leaves_into(algorithm, dst, &mut iter);
            delivered += filled;
            if filled < dst.len() {
                break;
            }
            job.build(algorithm);
        }
    }
    settle(algorithm, leaves, upper, delivered, n, iter)
}

/// After the chunks: either finish the top levels, or (broken size hint) hand back the leaf
/// hashes of everything delivered.
fn settle<I>(
    algorithm: HashAlgorithm,
    mut leaves: Vec<Node>,
    mut upper: Vec<Vec<Node>>,
    delivered: usize,
    n: usize,
    iter: I,
) -> Built
where
    I: Iterator,
    I::Item: AsRef<[u8]>,
{
    let mut rest = iter
        .map(|item| hashing::leaf(algorithm, item.as_ref()))
        .peekable();
    if delivered == n && rest.peek().is_none() {
        finish_top(algorithm, &leaves, &mut upper);
        let mut levels = Vec::with_capacity(upper.len() + 1);
        levels.push(leaves);
        levels.extend(upper);
        return Built::Done(levels);
    }
    leaves.truncate(delivered);
    leaves.extend(rest);
    Built::Miscounted(leaves)
}

/// The parallel form of [`from_exact_iter`]: this thread pulls the (possibly non-`Send`) items
/// and copies each chunk's bytes into a small buffer; the chunk's hashing runs as a rayon task
/// while this thread reads the next chunk. Copying costs about one memory pass over the
/// leaves, against the ~40 ns of hashing per leaf.
#[cfg(feature = "parallel")]
fn from_exact_iter_parallel<I>(algorithm: HashAlgorithm, n: usize, mut iter: I) -> Built
where
    I: Iterator,
    I::Item: AsRef<[u8]>,
{
    let mut leaves = vec![[0u8; 32]; n];
    let mut upper = alloc_upper(n);
    let mut delivered = 0usize;
    {
        let jobs = jobs(&mut leaves, &mut upper);
        rayon::in_place_scope(|scope| {
            for mut job in jobs {
                let want = job.levels.first().map_or(0, |l| l.len());
                let mut bytes = Vec::with_capacity(want * 32);
                let mut ends = Vec::with_capacity(want);
                for item in iter.by_ref().take(want) {
                    bytes.extend_from_slice(item.as_ref());
                    ends.push(bytes.len());
                }
                delivered += ends.len();
                let complete = ends.len() == want;
                scope.spawn(move |_| {
                    if let Some(dst) = job.levels.first_mut() {
                        let mut start = 0;
                        let mut leaves = ends.iter().map(|&end| {
                            let leaf = bytes.get(start..end).unwrap_or(&[]);
                            start = end;
                            leaf
                        });
                        hashing::leaves_into(algorithm, dst, &mut leaves);
                    }
                    if complete {
                        job.build(algorithm);
                    }
                });
                if !complete {
                    break;
                }
            }
        });
    }
    settle(algorithm, leaves, upper, delivered, n, iter)
}

#[cfg(test)]
mod tests;
