# Two commands set everything up on a fresh machine:
#   make play   train an agent, then watch it play
#   make test   lint and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PyTorch's CPU build, from PyTorch's own CPU index; where that index cannot be reached
# within seconds, the plain install (a CUDA build on Linux, unless a CPU wheel is at hand).
TORCH := torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: play test bench lint clean

$(BIN)/activate: pyproject.toml Makefile
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --timeout 5 --retries 0 --index-url "$(TORCH_INDEX)" "$(TORCH)" \
		|| $(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,bench,scale]"
	touch $(BIN)/activate

play: $(BIN)/activate
	$(BIN)/python play.py

test: $(BIN)/activate
	$(BIN)/ruff check .
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(BIN)/activate
	$(BIN)/python bench/env_speed.py

clean:
	rm -rf $(VENV)
