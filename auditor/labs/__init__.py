"""Loopback services for the demo, the tests and the benchmarks: certificates, TLS and plain listeners.

Everything here binds to 127.0.0.1 only.
"""
