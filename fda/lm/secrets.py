"""Placeholder secrets: values copied from an example file that must never reach a provider.

Keys come only from the environment (or ``.env``); they are held as ``SecretStr``, never logged,
and never passed into objects that get saved (see docs/lm.md).
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(
    r"""^(
        change[-_ ]?me|replace[-_ ]?me|todo|tbd|placeholder|
        xxx+|\*+|\.\.\.+|
        (sk|sk-proj|sk-ant)[-_]?(x+|\.\.\.+|\*+|your.*|placeholder)|
        <.*>|\{.*\}|\$\{.*\}|
        your[-_ ]?(api[-_ ]?)?key.*|(api[-_ ]?)?key[-_ ]?here|insert.*key.*|paste.*key.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# Provider key variables LiteLLM reads by itself; checked for placeholders before a call is made.
PROVIDER_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "azure": "AZURE_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}


def is_placeholder_secret(value: str) -> bool:
    """True for empty values and the usual stand-ins ('changeme', 'sk-xxx', '<your-key>', ...)."""
    return not value.strip() or bool(_PLACEHOLDER.match(value.strip()))
