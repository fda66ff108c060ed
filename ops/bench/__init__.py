"""Benchmarks behind `fda bench ...`: they print tables; docs/benchmarks.md and docs/results/ hold them."""
