"""Runs a command with its address space limited to GIB gibibytes and returns its status
(a signal as 128 + its number). usage: memory_limit.py GIB COMMAND..."""
import resource
import subprocess
import sys

limit = int(float(sys.argv[1]) * (1 << 30))
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rc = subprocess.call(sys.argv[2:])
sys.exit(128 - rc if rc < 0 else rc)
