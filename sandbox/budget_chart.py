"""PNG chart of burn against budget for simulated periods (benchmark and demo only: matplotlib is a dev
dependency, imported inside the function so the Lambda never loads it)."""
from __future__ import annotations

from pathlib import Path

from sandbox.budget_simulation import Outcome


def write_burn_chart(outcomes: list[Outcome], path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (burn, limits) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    for outcome in outcomes:
        days = [hour / 24 for hour in outcome.hours]
        burn.plot(days, [s / outcome.scenario.budget * 100 for s in outcome.spend],
                  label=f"{outcome.scenario.name} ({outcome.ratio * 100:.1f} %)")
        limits.plot(days, outcome.usage, label=outcome.scenario.name)
    if outcomes:
        days = [hour / 24 for hour in outcomes[0].hours]
        burn.plot(days, [h / outcomes[0].hours[-1] * 100 for h in outcomes[0].hours], "k:", label="even burn")
    burn.axhline(100, color="black", linewidth=1.5, label="budget")
    burn.set_ylabel("spend, % of the period's budget")
    burn.set_title("costguard budget: burn against budget, reconciler every 15 minutes")
    burn.legend(fontsize=8, loc="upper left")
    limits.set_ylabel("vCPU running")
    limits.set_xlabel("day of the period")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
