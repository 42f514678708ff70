"""Prompt writing: label-guided templates, LLM-assisted descriptors and captions, and the prompts.json file."""
