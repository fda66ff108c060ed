"""Write the questions a section of the docs answers (doc2query): training queries and a retrieval signal.

Used offline by ``fda gen-questions`` (index/questions/generate.py), never on a user's request. The examples
are written for this prompt from two docs sections; none comes from the gold set. Probed on random
sections with the embedded models (docs/retrieval.md, "Questions generated from sections"): the 0.5B copies
the examples' questions into unrelated sections, the 1.5B writes section-specific ones.
"""

from __future__ import annotations

import dspy


class SectionQuestions(dspy.Signature):
    """Write the questions a developer would type into a search box that this section of the FastAPI docs answers.

    Write 3 different questions: what the developer wants to do or what went wrong, in their words, naming the
    FastAPI class, function or parameter when the section is about a specific one. Each question must be
    answered by this section itself, not by the rest of the docs. Never copy a question from an example."""

    section: str = dspy.InputField(desc="Heading path, then the section's text.")
    questions: list[str] = dspy.OutputField(desc="3 questions, each one sentence.")


SEED_EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Tutorial > CORS (Cross-Origin Resource Sharing) > Use CORSMiddleware\n\n"
        "You can configure it in your FastAPI application using the CORSMiddleware. Import CORSMiddleware. "
        'Create a list of allowed origins (as strings). Add it as a "middleware" to your FastAPI application. '
        "You can also specify whether your backend allows credentials, specific HTTP methods, specific headers.",
        (
            "How do I enable CORS in FastAPI?",
            "My frontend on localhost:3000 is blocked by CORS when it calls my API, how do I allow it?",
            "How do I set allow_origins and allow_credentials?",
        ),
    ),
    (
        "Tutorial > Handling Errors > Install custom exception handlers\n\n"
        "You can add custom exception handlers with the same exception utilities from Starlette. Let's say you "
        "have a custom exception UnicornException that you (or a library you use) might raise. And you want to "
        "handle this exception globally with FastAPI. You could add a custom exception handler with "
        "@app.exception_handler().",
        (
            "How do I return a custom JSON response when my own exception is raised?",
            "How do I use @app.exception_handler for a custom exception class?",
            "Can I handle an exception globally instead of in every endpoint?",
        ),
    ),
)


def seed_demos() -> list[dspy.Example]:
    """The examples above as demos for ``dspy.Predict(SectionQuestions)``."""
    return [dspy.Example(section=s, questions=list(q)) for s, q in SEED_EXAMPLES]
