"""LM-written questions per docs section (`fda gen-questions`), committed under data/retriever/."""
