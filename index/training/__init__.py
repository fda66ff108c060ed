"""Training the ColBERT projection on pairs made from the docs alone (`fda train-retriever`)."""
