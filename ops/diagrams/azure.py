"""Draw the Azure deployment of infra/azure/main.bicep as docs/img/azure-architecture.png.

python -m ops.diagrams.azure
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

OUT = Path(__file__).resolve().parents[2] / "docs" / "img" / "azure-architecture.png"

# name -> (x, y, w, h, colour, label)
BOXES = {
    "users": (0.2, 4.9, 2.1, 0.9, "#eeeeee", "People (UI, API)\ncoding agents (MCP)"),
    "acr": (0.2, 3.2, 2.1, 0.9, "#eeeeee", "Container registry\n(image; AcrPull)"),
    "env": (2.9, 1.9, 3.4, 4.4, "#e8f1fb", ""),
    "ui": (3.2, 4.9, 2.0, 0.9, "#cfe2f7", "ui (Streamlit)"),
    "api": (3.2, 2.4, 2.8, 1.9, "#cfe2f7", "api\nFastAPI + DSPy programs,\ntrust checks, MCP"),
    "openai": (8.2, 5.5, 2.4, 0.8, "#e3f4e1", "Azure OpenAI\n(gpt-4o-mini deployment)"),
    "search": (8.2, 4.4, 2.4, 0.8, "#e3f4e1", "Azure AI Search\n(one index per docs version)"),
    "vault": (8.2, 3.3, 2.4, 0.8, "#fde2e2", "Key Vault\n(DSN, connection string)"),
    "postgres": (8.2, 2.2, 2.4, 0.8, "#e3f4e1", "PostgreSQL\n(query log, feedback)"),
    "insights": (8.2, 1.1, 2.4, 0.8, "#efe3f7", "App Insights +\nLog Analytics"),
    "files": (3.6, 0.4, 2.0, 0.8, "#eeeeee", "Files share\n/corpus (read-only)"),
}
# (from, to, label): drawn edge to edge
ARROWS = [
    ("users", "ui", "HTTPS (UI, API, MCP)"),
    ("users", "api", ""),
    ("acr", "api", "image"),
    ("ui", "api", ""),
    ("api", "openai", "Entra ID (OpenAI User)"),
    ("api", "search", "Index Data Reader"),
    ("api", "vault", "Secrets User, at start"),
    ("api", "postgres", "spooled logs, exactly once"),
    ("api", "insights", "traces (OpenTelemetry)"),
    ("files", "api", "mounted"),
]


def anchor(name: str, toward: str) -> tuple[float, float]:
    """The middle of the side of ``name`` that faces ``toward``."""
    x, y, w, h, _, _ = BOXES[name]
    tx, ty, tw, th, _, _ = BOXES[toward]
    if name == "api" and tx > x + w:  # fan out along the right edge, in the order of the targets
        return x + w, y + h * (ty + th / 2 - 0.6) / 6.0
    dx, dy = (tx + tw / 2) - (x + w / 2), (ty + th / 2) - (y + h / 2)
    if abs(dx) * h > abs(dy) * w:
        return (x + w, y + h / 2) if dx > 0 else (x, y + h / 2)
    return (x + w / 2, y + h) if dy > 0 else (x + w / 2, y)


def draw(out: Path = OUT) -> Path:
    fig, ax = plt.subplots(figsize=(11, 6.6))
    for x, y, w, h, colour, label in BOXES.values():
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.03", fc=colour, ec="#555555", lw=1))
        ax.text(x + w / 2, y + h / 2, label, ha="center", va="center", fontsize=8.5)
    ax.text(
        3.0,
        6.0,
        "Container Apps environment: one user-assigned\nidentity, api scales on HTTP concurrency",
        fontsize=8,
        style="italic",
    )
    for a, b, label in ARROWS:
        (x1, y1), (x2, y2) = anchor(a, b), anchor(b, a)
        ax.add_patch(FancyArrowPatch((x1, y1), (x2, y2), arrowstyle="-|>", mutation_scale=12, color="#333333", lw=1))
        if label and x2 > x1 + 1.5:  # to a service on the right: the label by the arrow head
            ax.text(x2 - 0.1, y2 + 0.05, label, fontsize=7, ha="right", va="bottom", color="#1f4e79")
        elif label:
            ax.text((x1 + x2) / 2 + 0.05, (y1 + y2) / 2 + 0.05, label, fontsize=7, ha="left", color="#1f4e79")
    ax.set_xlim(0, 10.8)
    ax.set_ylim(0.2, 6.5)
    ax.axis("off")
    ax.set_title("FastAPI Docs Assistant on Azure (infra/azure/main.bicep)", fontsize=11)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


if __name__ == "__main__":
    import sys

    sys.stdout.write(f"{draw()}\n")
