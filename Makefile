# make run: set up and start the app; make test: set up and run every test.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: setup assets system-deps run test test-fast clean-data

setup: $(VENV)/.installed assets

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

assets: app/static/vendor/MANIFEST.txt

app/static/vendor/MANIFEST.txt: scripts/fetch_web_assets.sh
	bash scripts/fetch_web_assets.sh

# Debian chromium (browser tests), ffmpeg (media cross-checks) and postgresql (the tests start a
# throwaway cluster on 127.0.0.1 from its binaries); installed when we are root.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v ffmpeg >/dev/null || \
	    ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium ffmpeg postgresql; \
	  else echo "install Debian packages chromium, ffmpeg and postgresql (sudo apt-get install chromium ffmpeg postgresql)"; exit 1; fi; \
	fi

run: setup
	$(PY) -m annotation_db init
	$(PY) -m training seed-demo
	$(PY) -m streamlit run app/main.py --server.address $(HOST) --server.port $(PORT)

test: setup system-deps
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not browser and not slow"

clean-data:
	rm -rf var
