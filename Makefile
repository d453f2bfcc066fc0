# Khabar: the README's two commands are `make run` and `make test`; both set up what they need.
UV_VERSION := 0.13.9
UV := python3 -m uv

.PHONY: setup system-deps run test test-slow lint

# Java 17 and Maven run the local Apache Kafka; Prometheus (promtool) checks the metrics and
# alert rules in the tests; uv installs the pinned Python dependencies.
system-deps:
	@command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || { \
	  echo "installing Java 17, Maven and Prometheus (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    openjdk-17-jre-headless maven prometheus >/dev/null; }
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"

setup: system-deps
	$(UV) sync --frozen

run: setup
	$(UV) run khabar run

test: setup lint
	$(UV) run pytest

test-slow: setup
	$(UV) run pytest -m slow

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
