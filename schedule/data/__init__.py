"""Package data: the sample rollout and roster CSV files (generated from schedule.sample)."""
