"""The base model for training, read from the same GGUF file llama.cpp serves, and the token layout of an example.

    model, tokenizer = load_base(state_dir / "models" / "qwen2.5-coder-0.5b.gguf")   # ~60 s, fp32, ~2.5 GB
    encoded = encode(tokenizer, example.messages, example.completion)                # ids + where the target starts

No model hub: transformers reads the GGUF (its ``gguf`` extra) and dequantises the 4-bit weights to fp32, so the
adapter learns on the very weights it will be applied to at serving time (llama.cpp applies it to the
quantised model). The chat template is the one stored in the GGUF, which llama.cpp applies too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fda.errors import FinetuneError

END_OF_TURN = "<|im_end|>"  # Qwen2.5's end of a chat turn; llama.cpp stops the answer there


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    start: int  # the first target token (everything before it is the prompt: no loss there)

    @property
    def target_tokens(self) -> int:
        return len(self.ids) - self.start


def load_base(path: Path, *, dtype: str = "float32") -> tuple[Any, Any]:
    """(model, tokenizer) from a GGUF file; a clear error when the file or the training extra is missing."""
    if not path.is_file():
        raise FinetuneError(
            f"no base model at {path}", hint="Assemble it first: `fda models fetch qwen2.5-coder-0.5b`."
        )
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as err:  # pragma: no cover - the dev install has them
        raise FinetuneError(f"fine-tuning needs torch and transformers ({err})", hint="Run `make setup`.") from err
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=getattr(torch, dtype))
    except ImportError as err:
        raise FinetuneError(
            f"reading a GGUF needs the `gguf` package ({err})", hint="Install the extra: pip install -e '.[finetune]'."
        ) from err
    return model, tokenizer


def encode(tokenizer: Any, messages: Sequence[dict[str, str]], completion: str) -> Encoded:
    """The prompt as the chat template renders it (generation prompt included), then the completion and the end
    of turn: the tokens llama.cpp sees and the ones the model should produce."""
    prompt = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    target_ids = tokenizer(completion + END_OF_TURN, add_special_tokens=False)["input_ids"]
    return Encoded([*prompt_ids, *target_ids], len(prompt_ids))
