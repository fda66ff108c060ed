"""Compile answer programs with DSPy optimizers on the gold train split, version them in MLflow, serve
the champion (docs/compile.md).

    fda compile --program rag --optimizer bootstrap --lm local:qwen2.5-coder-0.5b
    fda programs list | promote VERSION | rollback
    from optimizers import load_champion     # (program, "fda-rag/3" or "uncompiled")
"""

from optimizers.metric import CompileMetric, metric
from optimizers.serving import UNCOMPILED, load_champion

__all__ = ["UNCOMPILED", "CompileMetric", "load_champion", "metric"]
