"""The load harness of issue F11: `python -m benchmarks.load --help`."""
