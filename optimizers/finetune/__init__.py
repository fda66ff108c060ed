"""LoRA fine-tuning of the embedded models (roadmap v0.5, docs/finetune.md): data from the served program's own
prompts and gold train targets, a CPU training loop over peft, and the adapter exported to llama.cpp's format."""
