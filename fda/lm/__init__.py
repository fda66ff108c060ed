"""Language models: the embedded llama.cpp models and any LiteLLM model, behind one factory.

    fda models list && fda models fetch        # assemble the default GGUF into state/models
    with LocalRuntime(models_dir) as rt:       # starts/stops the local servers it is asked for
        lm = make_lm(settings.lm, runtime=rt)  # a dspy.LM

This package import stays light (no dspy, no llama.cpp): the server worker process imports it too.
Details: docs/lm.md.
"""
