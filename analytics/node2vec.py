"""node2vec (Grover and Leskovec, 2016): biased second-order random walks, then skip-gram with negative
sampling over the walks, compiled with numba.

**Walks** are exact node2vec walks drawn by rejection sampling (as KnightKing and fastnode2vec do): a
candidate next node is drawn from the current node's weighted neighbours (a binary search in its
cumulative weights) and accepted with probability ``1/p`` (back to the previous node), ``1`` (a
neighbour of the previous node) or ``1/q`` (further away), each scaled by the largest. O(log degree) per
step and no per-edge tables, so memory stays O(edges). Each walk has its own counter-based random
stream, so the walks are the same for a seed whatever the number of threads.

**Training** is word2vec's skip-gram with negative sampling as gensim does it (reduced window, negatives
from the unigram distribution to the 0.75, frequent-node subsampling, linearly decaying learning rate),
hogwild over ``workers`` threads; with one worker it is deterministic for a seed. One change: a centre
node's negatives are drawn once and shared by every context in its window (Ji et al., "Parallelizing
Word2Vec in Shared and Distributed Memory", 2016), so a window of ~6 contexts reads 5 random output rows
rather than 30. On a million-node graph those rows come from main memory, and sharing them trains ~4x the
tokens a second at the same link-prediction AUC (bench/embed.py).

Measured here against the reference ``node2vec`` package (0.4.3) on one graph: see ``bench/embed.py``
and BENCHMARKS.md. The kernels follow a helper's prototype written for this project.
"""

from __future__ import annotations

from collections.abc import Callable

import numba as nb
import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
BLOCKS = 20  # training blocks per epoch: progress is reported after each


@njit(inline="always")
def _next(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """splitmix64: the new state and a random 64-bit number."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(inline="always")
def _stream(seed: int, number: int) -> np.uint64:
    """The starting state of random stream ``number``: hashed, so two streams are not one stream shifted
    by a step (consecutive counters would make walk i+1 replay walk i's draws one step late)."""
    _, mixed = _next(np.uint64(seed) * np.uint64(0x100000001B3))
    _, start = _next(mixed ^ (np.uint64(number) * np.uint64(0xD6E8FEB86659FD93)))
    return start


@njit(inline="always")
def _uniform(z: np.uint64) -> float:
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _draw_neighbour(indptr: np.ndarray, cdf: np.ndarray, node: int, u: float) -> int:
    """Position (into ``indices``) of a neighbour of ``node`` drawn by weight: binary search of ``u``."""
    lo, hi = indptr[node], indptr[node + 1] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] < u:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(inline="always")
def _linked(indptr: np.ndarray, indices: np.ndarray, a: int, b: int) -> bool:
    """Whether ``a`` and ``b`` are neighbours (binary search of ``a``'s sorted neighbours)."""
    lo, hi = indptr[a], indptr[a + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < b:
            lo = mid + 1
        elif indices[mid] > b:
            hi = mid
        else:
            return True
    return False


@njit(inline="always")
def _step(indptr, indices, cdf, prev, cur, accept, state):  # type: ignore[no-untyped-def]
    """One biased step from ``cur`` (having come from ``prev``): rejection sampling on ``accept`` =
    (return, neighbour, outward) acceptance probabilities."""
    while True:
        state, z = _next(state)
        x = indices[_draw_neighbour(indptr, cdf, cur, _uniform(z))]
        state, z = _next(state)
        r = _uniform(z)
        if x == prev:
            if r < accept[0]:
                return x, state
        elif _linked(indptr, indices, prev, x):
            if r < accept[1]:
                return x, state
        elif r < accept[2]:
            return x, state


@njit(parallel=True, nogil=True, cache=True)
def _walks(indptr, indices, cdf, starts, length, accept, seed, first):  # type: ignore[no-untyped-def]
    out = np.full((starts.shape[0], length), -1, dtype=np.int32)
    for i in prange(starts.shape[0]):
        state = _stream(seed, first + i)  # walk number first + i has its own stream
        cur = starts[i]
        out[i, 0] = cur
        if indptr[cur] == indptr[cur + 1]:
            continue  # an isolated node: a walk of one
        state, z = _next(state)
        prev, cur = cur, indices[_draw_neighbour(indptr, cdf, cur, _uniform(z))]
        out[i, 1] = cur
        for j in range(2, length):
            x, state = _step(indptr, indices, cdf, prev, cur, accept, state)
            prev, cur = cur, x
            out[i, j] = cur
    return out


def random_walks(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    walks_per_node: int,
    walk_length: int,
    p: float,
    q: float,
    seed: int,
    on_round: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """node2vec walks over a symmetric CSR graph (sorted neighbours per row): ``walks_per_node`` rounds of
    one walk from every node in a seeded random order, as an ``(n * walks_per_node, walk_length)`` int32
    array (a walk from an isolated node is -1 after its start); ``on_round(done, rounds)`` after each.
    O(walks x length x log degree)."""
    n = len(indptr) - 1
    rng = np.random.default_rng(seed)
    top = max(1 / p, 1.0, 1 / q)
    accept = np.array([1 / p / top, 1 / top, 1 / q / top], dtype=np.float64)
    cdf, indptr, indices = row_cdf(indptr, weights), indptr.astype(np.int64), indices.astype(np.int32)
    rounds = []
    for r in range(walks_per_node):
        starts = rng.permutation(n).astype(np.int32)
        rounds.append(_walks(indptr, indices, cdf, starts, walk_length, accept, seed, r * n))
        if on_round:
            on_round(r + 1, walks_per_node)
    return np.concatenate(rounds) if rounds else np.zeros((0, walk_length), dtype=np.int32)


def row_cdf(indptr: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's cumulative weights divided by the row's total (its last entry exactly 1.0).

    >>> row_cdf(np.array([0, 2, 3]), np.array([1.0, 3.0, 5.0])).tolist()
    [0.25, 1.0, 1.0]
    """
    running = np.concatenate([[0.0], np.cumsum(weights.astype(np.float64))])  # total before each entry
    lengths = np.diff(indptr)
    start, end = running[indptr[:-1]], running[indptr[1:]]  # totals before and after each row
    out = (running[1:] - np.repeat(start, lengths)) / np.repeat(end - start, lengths)
    out[indptr[1:][lengths > 0] - 1] = 1.0
    return out


@njit(inline="always")
def _update(syn0, syn1, ctx, target, label, alpha, grad):  # type: ignore[no-untyped-def]
    """One logistic step of ``ctx``'s input vector against ``target``'s output vector; the input's
    gradient accumulates in ``grad``."""
    f = np.float32(0.0)
    for d in range(syn0.shape[1]):
        f += syn0[ctx, d] * syn1[target, d]
    if f > 6.0:
        g = (label - 1.0) * alpha
    elif f < -6.0:
        g = label * alpha
    else:
        g = (label - 1.0 / (1.0 + np.exp(-f))) * alpha
    g = np.float32(g)
    for d in range(syn0.shape[1]):
        grad[d] += g * syn1[target, d]
        syn1[target, d] += g * syn0[ctx, d]


@njit(inline="always")
def _kept(walk, keep, sentence, state):  # type: ignore[no-untyped-def]
    """The walk's nodes after frequent-node subsampling, into ``sentence``; returns how many."""
    n = 0
    for w in walk:
        if w < 0:
            break
        if keep[w] < 1.0:
            state, z = _next(state)
            if _uniform(z) > keep[w]:
                continue
        sentence[n] = w
        n += 1
    return n, state


@njit(inline="always")
def _negative(alias_j, alias_q, state):  # type: ignore[no-untyped-def]
    state, z = _next(state)
    c = np.int64(z % np.uint64(alias_j.shape[0]))
    state, z = _next(state)
    return (alias_j[c] if _uniform(z) >= alias_q[c] else c), state


@njit(inline="always")
def _train_sentence(sentence, n, syn0, syn1, alias_j, alias_q, window, negative, alpha, grad, negs, state):  # type: ignore[no-untyped-def]
    for i in range(n):
        word = sentence[i]
        state, z = _next(state)
        shrink = np.int64(z % np.uint64(window))  # word2vec's reduced window
        drawn = 0  # negatives drawn once for this centre node, shared by every context in its window
        for _ in range(negative):
            target, state = _negative(alias_j, alias_q, state)
            if target != word:
                negs[drawn] = target
                drawn += 1
        for j in range(max(0, i - window + shrink), min(n, i + window + 1 - shrink)):
            if j == i:
                continue
            ctx = sentence[j]
            grad[:] = 0.0
            _update(syn0, syn1, ctx, word, 1.0, alpha, grad)
            for k in range(drawn):
                _update(syn0, syn1, ctx, negs[k], 0.0, alpha, grad)
            for d in range(syn0.shape[1]):
                syn0[ctx, d] += grad[d]
    return state


@njit(parallel=True, nogil=True, fastmath=True, cache=True)
def _train(walks, keep, syn0, syn1, alias_j, alias_q, window, negative, alphas, span, threads, seed, stream):  # type: ignore[no-untyped-def]
    """One block of walks over ``threads`` threads (hogwild); the learning rate falls linearly from
    ``alphas[0]`` to ``alphas[1]`` over the whole run, of which this block covers ``span`` (from, to)."""
    n_walks, length = walks.shape
    share = (n_walks + threads - 1) // threads
    for t in prange(threads):
        grad = np.zeros(syn0.shape[1], dtype=np.float32)
        negs = np.empty(negative, dtype=np.int64)
        sentence = np.empty(length, dtype=np.int32)
        state = _stream(seed, (1 << 40) + stream + t)  # apart from the walks' streams
        lo, hi = t * share, min(n_walks, (t + 1) * share)
        for wi in range(lo, hi):
            progress = span[0] + (span[1] - span[0]) * (wi - lo) / max(hi - lo, 1)
            alpha = max(alphas[1], alphas[0] - (alphas[0] - alphas[1]) * progress)
            n, state = _kept(walks[wi], keep, sentence, state)
            state = _train_sentence(
                sentence, n, syn0, syn1, alias_j, alias_q, window, negative, alpha, grad, negs, state
            )
    return 0


def train_skipgram(
    walks: np.ndarray,
    n_nodes: int,
    dimensions: int,
    window: int,
    negative: int,
    epochs: int,
    sample: float,
    workers: int,
    seed: int,
    alpha: float = 0.025,
    min_alpha: float = 0.0001,
    on_block: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Skip-gram with negative sampling over ``walks`` (int32, -1 padded): the ``(n_nodes, dimensions)``
    float32 input and output vectors, trained in :data:`BLOCKS` blocks per epoch (``on_block(done,
    blocks)`` after each). O(tokens x window x negative x dimensions) / workers."""
    walks = np.ascontiguousarray(walks, dtype=np.int32)
    counts = np.bincount(walks[walks >= 0], minlength=n_nodes).astype(np.float64)
    keep = _keep_probabilities(counts, sample)
    alias_j, alias_q = _alias(counts**0.75 / max((counts**0.75).sum(), 1e-300))
    rng = np.random.default_rng(seed)
    syn0 = ((rng.random((n_nodes, dimensions), dtype=np.float32) - 0.5) / dimensions).astype(np.float32)
    syn1 = np.zeros((n_nodes, dimensions), dtype=np.float32)
    threads = max(1, min(workers, nb.config.NUMBA_NUM_THREADS))
    nb.set_num_threads(threads)
    alphas = np.array([alpha, min_alpha], dtype=np.float64)
    bounds = np.linspace(0, len(walks), BLOCKS + 1).astype(np.int64)
    total = epochs * BLOCKS
    for step in range(total):
        epoch, block = divmod(step, BLOCKS)
        span = np.array([step / total, (step + 1) / total], dtype=np.float64)
        part = walks[bounds[block] : bounds[block + 1]]
        _train(part, keep, syn0, syn1, alias_j, alias_q, window, negative, alphas, span, threads, seed, step * threads)
        if on_block:
            on_block(step + 1, total)
    return syn0, syn1


def _keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """gensim's downsampling: a node seen more than ``sample`` of the time is kept with probability
    ``(sqrt(f / t) + 1) t / f``, ``t = sample x total``."""
    keep = np.ones(len(counts), dtype=np.float32)
    if sample > 0 and counts.sum() > 0:
        threshold = sample * counts.sum()
        seen = counts > 0
        keep[seen] = np.minimum(1.0, (np.sqrt(counts[seen] / threshold) + 1) * threshold / counts[seen])
    return keep


def _alias(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias tables (Vose's method): draw ``c`` uniformly, keep it with probability ``q[c]``, else
    take ``j[c]``. O(n), compiled: a million nodes take milliseconds, not the seconds a Python loop took.

    >>> j, q = _alias(np.array([0.5, 0.3, 0.2]))
    >>> [round(float(q[c] + sum(1 - q[o] for o in range(3) if j[o] == c)) / 3, 3) for c in range(3)]
    [0.5, 0.3, 0.2]
    """
    j, q = _vose(np.asarray(probabilities, dtype=np.float64) * len(probabilities))
    return j, q.astype(np.float32)


@njit(cache=True)
def _vose(scaled):  # type: ignore[no-untyped-def]
    k = scaled.shape[0]
    j = np.zeros(k, dtype=np.int64)
    stacks = np.empty((2, k), dtype=np.int64)  # [0]: columns under 1 (small), [1]: the rest (large)
    sizes = np.zeros(2, dtype=np.int64)
    for i in range(k):
        _file(stacks, sizes, i, scaled[i] >= 1.0)
    while sizes[0] > 0 and sizes[1] > 0:
        sizes -= 1
        s, big = stacks[0, sizes[0]], stacks[1, sizes[1]]
        j[s] = big
        scaled[big] -= 1.0 - scaled[s]
        _file(stacks, sizes, big, scaled[big] >= 1.0)
    for side in range(2):
        for i in range(sizes[side]):
            scaled[stacks[side, i]] = 1.0  # what is left is full, up to rounding
    return j, scaled


@njit(inline="always")
def _file(stacks, sizes, column, large):  # type: ignore[no-untyped-def]
    side = 1 if large else 0
    stacks[side, sizes[side]] = column
    sizes[side] += 1
