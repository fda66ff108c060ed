"""Every prompt of the assistant lives here, as a ``dspy.Signature``: the docstring is the
instruction and every field has a ``desc``. Nothing else in the project builds prompt text."""
