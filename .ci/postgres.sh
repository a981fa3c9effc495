#!/usr/bin/env bash
# Install and start a throwaway PostgreSQL server on loopback for the storage tests.
# Exports nothing: tests find it through MARKSOCR_TEST_PG_URL written to .ci/pg_url.
set -euo pipefail
echo "ci: PostgreSQL setup not written yet"
