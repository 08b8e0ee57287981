"""`make bench`: timings and real-process measurements, never pass/fail tests."""
