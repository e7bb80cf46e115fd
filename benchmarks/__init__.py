"""Scale benchmarks: `python -m benchmarks.run --help`. They print figures and never assert limits."""
