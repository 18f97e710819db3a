# Two commands set everything up on a fresh machine:
#   make play   train an agent, then watch it play
#   make test   lint and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch; a plain `torch` would pull a CUDA build of several GB.
TORCH := torch==2.13.0

.PHONY: play test bench lint clean

$(BIN)/activate: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $(BIN)/activate

play: $(BIN)/activate
	$(BIN)/python play.py

test: $(BIN)/activate
	$(BIN)/ruff check .
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest -n 2

bench: $(BIN)/activate
	$(BIN)/python bench/env_speed.py

clean:
	rm -rf $(VENV)
