"""The transformers backend on a tiny randomly initialised LlamaForCausalLM saved to disk with a tokenizer built
in code: the real loading, chat-template and sampling code paths. Its answers are noise, so what is asserted is
how they are treated: seeded, validated, retried, then refused with a clear error."""

import pytest
import torch

from synthaudio.errors import CheckpointError, ConfigError
from synthaudio.llm import LLMError, LLMOptions, Sampling, make_llm
from synthaudio.llm.local_transformers import load_causal_lm, render_chat
from synthaudio.prompts.descriptors import DescriptorRequest, ask_descriptors

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")
MESSAGES = [{"role": "system", "content": "You list things."}, {"role": "user", "content": "List 3 sounds."}]


def tiny_tokenizer(chat_template: str | None = CHAT_TEMPLATE):
    """A byte-level BPE tokenizer without merges: every text encodes, nothing is downloaded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(["<pad>", "<s>", "</s>", "<unk>"])}
    for char in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab.setdefault(char, len(vocab))
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>")
    tokenizer.chat_template = chat_template
    return tokenizer


@pytest.fixture(scope="module")
def tiny_lm_dir(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = tiny_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_seeded_sampling_repeats_and_leaves_the_global_rng_alone(tiny_lm_dir):
    llm = make_llm("transformers", LLMOptions(model=str(tiny_lm_dir)))
    state = torch.random.get_rng_state()
    first = llm.complete(MESSAGES, seed=1, max_tokens=12)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert llm.complete(MESSAGES, seed=1, max_tokens=12) == first
    assert llm.complete(MESSAGES, seed=2, max_tokens=12) != first
    assert first.truncated  # 12 random tokens, no end-of-answer token among them


def test_greedy_decoding_ignores_the_seed(tiny_lm_dir):
    llm = make_llm("transformers", LLMOptions(model=str(tiny_lm_dir), sampling=Sampling(greedy=True)))
    assert llm.complete(MESSAGES, seed=1, max_tokens=8) == llm.complete(MESSAGES, seed=99, max_tokens=8)


def test_the_model_is_loaded_once_per_process(tiny_lm_dir):
    llm = make_llm("transformers", LLMOptions(model=str(tiny_lm_dir)))
    llm.complete(MESSAGES, seed=0, max_tokens=2)
    hits = load_causal_lm.cache_info().hits
    llm.complete(MESSAGES, seed=0, max_tokens=2)
    assert load_causal_lm.cache_info().hits == hits + 1


def test_noise_is_validated_retried_and_refused_clearly(tiny_lm_dir, caplog):
    llm = make_llm("transformers", LLMOptions(model=str(tiny_lm_dir)))
    request = DescriptorRequest("sound", context="ESC-50 environmental sounds", retries=2, max_tokens=24)
    with caplog.at_level("INFO", logger="synthaudio.prompts"), pytest.raises(LLMError) as error:
        ask_descriptors(llm, "dog", request)
    message = str(error.value)
    assert message.startswith(f"the transformers LLM ({tiny_lm_dir}) gave no usable list of 10 descriptors for "
                              "'dog' in 3 attempts (last answer: it was cut off at 24 tokens")
    assert "use a stronger --llm" in message
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["transformers"] * 3


def test_a_tokenizer_without_chat_template_gets_a_plain_transcript():
    text = render_chat(tiny_tokenizer(chat_template=None), MESSAGES)
    assert text == "<s>System: You list things.\nUser: List 3 sounds.\nAssistant:"


def test_chat_template_is_used_when_there_is_one():
    assert render_chat(tiny_tokenizer(), MESSAGES) == \
        "<|system|>You list things.\n<|user|>List 3 sounds.\n<|assistant|>"


def test_a_model_that_is_not_there_is_named(tmp_path):
    llm = make_llm("transformers", LLMOptions(model=str(tmp_path / "no-such-model")))
    with pytest.raises(CheckpointError) as error:
        llm.complete(MESSAGES, seed=0, max_tokens=2)
    assert str(error.value).startswith(f"cannot load the causal LM {tmp_path / 'no-such-model'}: ")
    assert "pass --llm-model a local folder" in str(error.value)


def test_remote_settings_are_refused():
    with pytest.raises(ConfigError, match="needs --llm-model"):
        make_llm("transformers", LLMOptions())
    with pytest.raises(ConfigError, match="runs locally: drop --llm-base-url/--llm-api-key"):
        make_llm("transformers", LLMOptions(model="x", api_key="k"))
