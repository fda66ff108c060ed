"""Does llama.cpp apply an exported LoRA adapter as peft does? (issue #25; docs/finetune.md)

    python -m experiments.lora_parity --run r8 --data gold-v2-dev-select --n 8

For the first N examples of a data set: the next-token distribution right after the prompt (the first token of
the answer's JSON is always '{', so the position after the target's first K tokens is used) from

- transformers: the GGUF's weights dequantised, with and without the run's peft adapter;
- llama.cpp: the quantised GGUF served with and without the exported adapter (``/completion``, ``n_probs``).

If the export were wrong (names, orientation, scale), the adapter would move llama.cpp's distribution elsewhere
or not at all. Reports, per example, the top token of each and the probability each assigns to the target token,
and writes eval/results/finetune/<run>-parity.jsonl.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "eval" / "results" / "finetune"


def llama_probs(base_url: str, prompt_ids: list[int], tokenizer: Any) -> dict[str, float]:
    body = json.dumps({"prompt": prompt_ids, "n_predict": 1, "n_probs": 10, "temperature": 0, "cache_prompt": False})
    request = urllib.request.Request(f"{base_url}/completion", body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as resp:
        out = json.loads(resp.read())
    top = out["completion_probabilities"][0]["top_logprobs"]
    return {t["token"]: math.exp(float(t["logprob"])) for t in top}


def hf_probs(model: Any, ids: list[int], tokenizer: Any, torch: Any) -> dict[str, float]:
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), logits_to_keep=1).logits[0, -1].float()
    probs = torch.softmax(logits, dim=-1)
    values, index = probs.topk(10)
    return {tokenizer.decode([int(i)]): float(v) for v, i in zip(values, index, strict=True)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default="r8")
    p.add_argument("--data", default="gold-v2-dev-select")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--into", type=int, default=12, help="target tokens given before the compared position")
    a = p.parse_args()

    import torch
    from peft import PeftModel

    from fda.lm.assemble import model_path
    from fda.lm.server import LocalServer, ServerConfig
    from fda.settings import get_settings
    from optimizers.finetune.base import encode
    from optimizers.finetune.export import export_adapter
    from optimizers.finetune.pipeline import finetune_dir, load_base_model, load_examples

    s = get_settings()
    run_dir = finetune_dir(s) / "runs" / a.run
    examples = load_examples(s, a.data)
    spec, model, tokenizer = load_base_model(s, "qwen2.5-coder-0.5b")
    base_file = model_path(spec, s.state_dir / "models")
    model.eval()
    rows: list[dict[str, Any]] = []
    cases = []
    for example in examples[: a.n]:
        enc = encode(tokenizer, example.messages, example.completion)
        cut = min(enc.start + a.into, len(enc.ids) - 1)
        cases.append((example.id, enc.ids[:cut], tokenizer.decode([enc.ids[cut]])))
    base_hf = [hf_probs(model, ids, tokenizer, torch) for _, ids, _ in cases]
    tuned = PeftModel.from_pretrained(model, str(run_dir / "adapter"))
    tuned.eval()
    tuned_hf = [hf_probs(tuned, ids, tokenizer, torch) for _, ids, _ in cases]
    with tempfile.TemporaryDirectory() as tmp:
        adapter = export_adapter(run_dir / "adapter", Path(tmp) / "a.gguf")
        probs: dict[str, list[dict[str, float]]] = {}
        for name, lora in (("base", None), ("tuned", adapter)):
            config = ServerConfig(base_file, name, context_size=4096, threads=2, lora_path=lora)
            with LocalServer(config) as server:
                url = server.api_base.removesuffix("/v1")
                probs[name] = [llama_probs(url, ids, tokenizer) for _, ids, _ in cases]
    for i, (qid, _, target) in enumerate(cases):
        row = {"id": qid, "target": target}
        for label, dist in (("hf_base", base_hf[i]), ("hf_tuned", tuned_hf[i]), ("llama_base", probs["base"][i]),
                            ("llama_tuned", probs["tuned"][i])):  # fmt: skip
            row[f"{label}_top"] = max(dist, key=dist.__getitem__)
            row[f"{label}_p_target"] = round(dist.get(target, 0.0), 4)
        rows.append(row)
        sys.stdout.write(json.dumps(row) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{a.run}-parity.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    agree = sum(r["hf_tuned_top"] == r["llama_tuned_top"] for r in rows)
    moved = sum(abs(r["llama_tuned_p_target"] - r["llama_base_p_target"]) > 0.01 for r in rows)
    sys.stdout.write(f"top token agrees (tuned, transformers vs llama.cpp): {agree}/{len(rows)}; ")
    sys.stdout.write(f"llama.cpp p(target) moved by the adapter: {moved}/{len(rows)}\nwrote {out}\n")


if __name__ == "__main__":
    main()
