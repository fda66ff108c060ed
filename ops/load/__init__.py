"""`fda bench load`: a bounded load test and soak of the HTTP service on loopback."""
