"""The one regression both question gates fit (optimizers/scope.py's vector model, optimizers/harm_lexical.py's
word n-gram model): an L2-regularised logistic regression, classes weighted to balance, by Newton's method.

    w, b = fit_logistic(x, y)          # y: 1 = the "in" class (in scope, harmless)
"""

from __future__ import annotations

import numpy as np


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 25) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression, classes weighted to balance (Newton)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))]).astype(np.float64)
    pos = max(1, int(y.sum()))
    neg = max(1, n - pos)
    sample_w = np.where(y > 0, n / (2 * pos), n / (2 * neg))
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (sample_w * (p - y)) + reg * w
        hess = (xb * (sample_w * p * (1 - p))[:, None]).T @ xb + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    return w[:-1], float(w[-1])
