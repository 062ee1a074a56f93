import sys
from pathlib import Path

# The end-to-end harness lives with the bridge tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bridge"))
