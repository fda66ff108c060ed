"""Answer programs (one ``dspy.Module`` per file): dependencies injected, prompts only in signatures/."""
