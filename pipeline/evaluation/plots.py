"""Per-theme precision-recall curves: CSV files for `dvc plots` and one PNG for MLflow."""
from __future__ import annotations

import csv
from pathlib import Path


def write_pr_plots(curves: dict[str, list[dict[str, float]]], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    for theme, points in curves.items():
        with open(plot_dir / f"pr_{theme}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["recall", "precision", "threshold"])
            writer.writeheader()
            writer.writerows(points)
    fig, ax = plt.subplots(figsize=(6, 5))
    for theme, points in curves.items():
        ax.plot([p["recall"] for p in points], [p["precision"] for p in points], label=theme)
    ax.set(xlabel="recall", ylabel="precision", title="Out-of-fold precision-recall by theme",
           xlim=(0, 1.02), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    image = out_dir / "pr_curves.png"
    fig.savefig(image, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [image]
