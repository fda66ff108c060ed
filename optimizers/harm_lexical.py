"""A word-n-gram logistic regression for the harm gate: what a sentence vector blurs ("their bank" against "my
bank", "without them knowing") a bag of uni- and bigrams keeps. Fit here, scored at serve time by
``programs.trust.harm.LexicalModel`` (numpy only):

    model = fit_lexical(texts, labels)      # labels: 1 = harmless, 0 = refuse
    model.logits(["how do I hash passwords?"])   # > 0: harmless

The vocabulary is the n-grams found in at least ``min_df`` training texts (at most ``max_features``, the most
frequent), binary features scaled to unit length; the fit is ``optimizers.logistic.fit_logistic`` (Newton,
classes balanced), so the harm and scope gates share one regression.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from optimizers.logistic import fit_logistic
from programs.trust.harm import LexicalModel, ngrams


def fit_lexical(
    texts: Sequence[str], labels: np.ndarray, *, min_df: int = 3, max_features: int = 2500, l2: float = 1.0
) -> LexicalModel:
    df = Counter(g for t in texts for g in set(ngrams(t)))
    vocab = [g for g, c in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_df][:max_features]
    model = LexicalModel(vocab={g: i for i, g in enumerate(vocab)}, weights=np.zeros(len(vocab)), bias=0.0)
    w, b = fit_logistic(model.features(texts), labels, l2=l2)
    return LexicalModel(vocab=model.vocab, weights=w.astype(np.float32), bias=b)


def oof_logits(texts: Sequence[str], labels: np.ndarray, folds: np.ndarray, **kw: float) -> np.ndarray:
    """Out-of-fold logits: each text scored by a model fit without its fold."""
    out = np.zeros(len(texts))
    for f in np.unique(folds):
        train = folds != f
        model = fit_lexical([t for t, k in zip(texts, train, strict=True) if k], labels[train], **kw)  # type: ignore[arg-type]
        out[~train] = model.logits([t for t, k in zip(texts, train, strict=True) if not k])
    return out
