"""The product's entry points: the `cardiosynth` command (worker and client commands), the worker's start and
stop, and the demo. This package assembles the worker from worker/, agents/ and web/.
"""
