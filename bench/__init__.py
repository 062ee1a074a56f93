"""Speed figures of Go Live Bridge, measured by hand or by ``make bench`` (see RESULTS.md)."""
