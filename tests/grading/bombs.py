"""Hostile code the sandbox tests run both through the launcher and in a forked kernel."""

FORK_BOMB = """
import os, time
n = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError as error:
    print("stopped", n, type(error).__name__)
else:
    print("forked", n)
"""
"""Forks up to 200 sleeping children and prints how far it got ("stopped N OSError")."""
