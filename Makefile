PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages Qt's X11 (xcb) platform plugin needs beyond a minimal system.
QT_DEBS := libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 \
           libxcb-shape0 libxcb-randr0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libfontconfig1 libdbus-1-3

.PHONY: setup run test qt-deps clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# On a display, make sure Qt's xcb plugin finds its system libraries: install them when we
# can (root with apt-get), otherwise say which command to run.
qt-deps: setup
	@plugin=$$(find $(VENV) -name libqxcb.so | head -n 1); \
	if [ -n "$$DISPLAY" ] && [ -n "$$plugin" ] && ldd "$$plugin" | grep -q "not found"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing the system libraries Qt needs to open a window: $(QT_DEBS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(QT_DEBS); \
	  else \
	    echo "Qt cannot open a window: missing $$(ldd "$$plugin" | awk '/not found/ {print $$1}' | tr '\n' ' ')"; \
	    echo "Install them with: sudo apt-get install $(QT_DEBS)"; exit 1; \
	  fi; \
	fi

run: setup qt-deps
	$(PY) main.py

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
