"""Plots people would rather look at than read: the profile size distribution."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def plot_profile_sizes(sizes: Mapping[int, int], out: Path, title: str = "Profile sizes") -> Path:
    """Bar chart (log y) of how many profiles hold 1, 2, 3, ... records; written as PNG or SVG by extension."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not sizes:
        raise ValueError("no profiles to plot: run `cdp resolve` first")
    xs = sorted(sizes)
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    ax.bar(xs, [sizes[x] for x in xs], width=0.8, color="#3b6ea8")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("records in the profile")
    ax.set_ylabel("profiles (log scale)")
    total = sum(sizes.values())
    ax.set_title(f"{title}: {total:,} profiles, largest {max(xs):,} records")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
