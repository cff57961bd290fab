"""TOPSIS ranking and its Monte Carlo sensitivity analysis (T5): pure numpy, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class TopsisResult:
    """Closeness to the ideal (1 = ideal), ranks (1 = best) and the parts needed to explain them."""

    closeness: NDArray[np.float64]
    rank: NDArray[np.int64]
    weighted: NDArray[np.float64]
    ideal: NDArray[np.float64]
    anti_ideal: NDArray[np.float64]


def _ranks(scores: NDArray[np.float64]) -> NDArray[np.int64]:
    # Rank 1 = highest closeness; ties broken by input order (stable).
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def topsis(matrix: ArrayLike, weights: ArrayLike, benefit: ArrayLike) -> TopsisResult:
    """Rank alternatives (rows) on criteria (columns) by TOPSIS (Hwang & Yoon 1981).

    Vector normalisation r_ij = x_ij / sqrt(Σ_i x_ij²); v_ij = w_j r_ij with weights scaled to sum 1;
    ideal = best of each column (max for benefit, min for cost), anti-ideal = worst;
    closeness C_i = d_i⁻ / (d_i⁺ + d_i⁻) with Euclidean distances. A column of zeros stays zero;
    when every alternative is identical C_i = 0.5.

    Examples
    --------
    >>> r = topsis([[7, 9, 9, 8], [8, 7, 8, 7], [9, 6, 8, 9], [6, 7, 8, 6]],
    ...            [0.1, 0.4, 0.3, 0.2], [True, True, True, False])
    >>> [round(c, 4) for c in r.closeness.tolist()], r.rank.tolist()
    ([0.7427, 0.4036, 0.1759, 0.4414], [1, 3, 4, 2])
    """
    x = np.asarray(matrix, dtype=float)
    w = np.asarray(weights, dtype=float)
    b = np.asarray(benefit, dtype=bool)
    if x.ndim != 2 or x.shape[1] != len(w) or len(b) != len(w):
        raise ValueError("matrix must be alternatives × criteria, with one weight and one direction per criterion")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    w = w / w.sum()
    norm = np.sqrt((x**2).sum(axis=0))
    r = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    v = r * w
    ideal = np.where(b, v.max(axis=0), v.min(axis=0))
    anti = np.where(b, v.min(axis=0), v.max(axis=0))
    d_plus = np.sqrt(((v - ideal) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - anti) ** 2).sum(axis=1))
    total = d_plus + d_minus
    c = np.divide(d_minus, total, out=np.full_like(total, 0.5), where=total > 0)
    return TopsisResult(c, _ranks(c), v, ideal, anti)


def rank_bands(ranks: NDArray[np.int64], band: int) -> NDArray[np.int64]:
    """Return the band of each rank: ranks 1..band are band 0, the next ``band`` ranks band 1, …

    Examples
    --------
    >>> rank_bands(np.array([1, 5, 6, 11]), 5).tolist()
    [0, 0, 1, 2]
    """
    return (np.asarray(ranks) - 1) // band


@dataclass(frozen=True)
class Sensitivity:
    """Monte Carlo outcome per alternative."""

    p_keep_band: NDArray[np.float64]
    rank_p05: NDArray[np.float64]
    rank_p95: NDArray[np.float64]
    rank_mean: NDArray[np.float64]


def sensitivity(
    matrix: ArrayLike,
    weights: ArrayLike,
    benefit: ArrayLike,
    *,
    samples: int = 2000,
    spread: float = 0.3,
    band: int = 5,
    seed: int = 0,
) -> Sensitivity:
    """Perturb each weight by a uniform factor in [1 − spread, 1 + spread], rescale, re-rank.

    Returns the probability each alternative keeps its base rank band, and its 5th/95th percentile
    and mean rank over the samples. Deterministic for a given seed.

    Examples
    --------
    >>> s = sensitivity([[1, 2], [2, 1], [3, 3]], [0.5, 0.5], [True, True], samples=200, band=1)
    >>> float(s.p_keep_band[2])
    1.0
    """
    x = np.asarray(matrix, dtype=float)
    w = np.asarray(weights, dtype=float)
    base = rank_bands(topsis(x, w, benefit).rank, band)
    rng = np.random.default_rng(seed)
    all_ranks = np.empty((samples, x.shape[0]), dtype=np.int64)
    for s in range(samples):
        ws = w * rng.uniform(1 - spread, 1 + spread, size=len(w))
        all_ranks[s] = topsis(x, ws, benefit).rank
    keep = (rank_bands(all_ranks, band) == base).mean(axis=0)
    return Sensitivity(
        keep,
        np.percentile(all_ranks, 5, axis=0),
        np.percentile(all_ranks, 95, axis=0),
        all_ranks.mean(axis=0),
    )


def contributions(result: TopsisResult) -> NDArray[np.float64]:
    """Per-criterion share of each alternative's position between anti-ideal and ideal.

    c_ij = (v_ij − anti_j)² − (v_ij − ideal_j)², scaled by Σ_j |c_ij|: positive parts pull the
    alternative towards the ideal, negative parts away; the rows' absolute values sum to 1.
    """
    v, ideal, anti = result.weighted, result.ideal, result.anti_ideal
    raw = (v - anti) ** 2 - (v - ideal) ** 2
    tot = np.abs(raw).sum(axis=1, keepdims=True)
    out: NDArray[np.float64] = np.divide(raw, tot, out=np.zeros_like(raw), where=tot > 0)
    return out
