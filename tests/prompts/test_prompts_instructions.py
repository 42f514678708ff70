"""What the LLM is asked: the domain and the dataset, so that an ambiguous class name is read right."""

from synthaudio.prompts.instructions import caption_messages, descriptor_messages, instruction_record


def test_sound_question_puts_the_label_in_an_environmental_recording():
    messages = descriptor_messages("siren", "sound", 10, "ESC-50 environmental sounds")
    question = messages[-1]["content"]
    assert messages[-1]["role"] == "user"
    assert "Dataset: ESC-50 environmental sounds." in question
    # Read as the thing that makes a sound in a recording: the emergency siren, not the mythological singer.
    assert "read its name as the thing or event that makes the sound" in question
    assert "the sound of 'siren' as heard in such a recording" in question
    assert "List 10 characteristics" in question


def test_worked_examples_show_the_format_and_never_the_class_itself():
    messages = descriptor_messages("rain", "sound", 10, "ESC-50 environmental sounds")
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    shown = [m["content"] for m in messages if m["role"] == "user"][:-1]
    assert all("'rain'" not in text for text in shown)  # the 'rain' example is skipped when 'rain' is asked
    answer = messages[2]["content"].splitlines()
    assert len(answer) == 10 and answer[0].startswith("1. ") and answer[-1].startswith("10. ")


def test_examples_follow_the_asked_count():
    messages = descriptor_messages("blues", "music", 20, "GTZAN genres")
    assert len(messages[2]["content"].splitlines()) == 20
    assert "'blues' music (instruments, rhythm, tempo, mood)" in messages[-1]["content"]


def test_speech_asks_for_speaking_styles_as_plain_adjectives():
    question = descriptor_messages("seven", "speech", 10, "Speech Commands keywords")[-1]["content"]
    assert "how a person might say the word 'seven'" in question
    for aspect in ("speed", "pitch", "loudness", "voice quality", "emotion", "plain adjectives"):
        assert aspect in question


def test_action_asks_for_the_sound_of_the_action_in_words():
    question = descriptor_messages("BlowDryHair", "action", 10, "UCF101 actions")[-1]["content"]
    assert "the sound of the action 'blow dry hair'" in question
    assert "describe what the action sounds like" in question


def test_a_retry_says_what_was_wrong():
    messages = descriptor_messages("siren", "sound", 10, "ESC-50", rejected=["it has 9 items, expected exactly 10"])
    assert "Your last answer to this question was rejected: it has 9 items, expected exactly 10." in \
        messages[0]["content"]
    assert messages[-1]["content"] == descriptor_messages("siren", "sound", 10, "ESC-50")[-1]["content"]


def test_instruction_record_shows_the_template_with_a_placeholder():
    record = instruction_record("sound", 10, "ESC-50 environmental sounds")
    assert "the sound of '{label}'" in record["question"]
    assert "{problems}" in record["on_retry"]
    assert record["examples"] == ["rain", "door knock", "kettle"]


def test_caption_question_names_the_class_and_what_to_avoid():
    messages = caption_messages("car_horn", "sound", 5, "ESC-50", avoid=["A car horn honks twice."])
    question = messages[-1]["content"]
    assert "Write 5 different one-sentence captions of a recording of the sound of 'car horn'" in question
    assert "Do not repeat these: A car horn honks twice." in question


def test_an_example_sharing_a_word_with_the_class_is_not_shown():
    shown = [m["content"] for m in descriptor_messages("door_wood_knock", "sound", 10, "ESC-50") if m["role"] == "user"]
    assert not any("'door knock'" in text for text in shown[:-1])
    assert any("'kettle'" in text for text in shown)
    music = [m["content"] for m in descriptor_messages("rock", "music", 20, "GTZAN") if m["role"] == "user"]
    assert not any("surf rock" in text for text in music[:-1])
