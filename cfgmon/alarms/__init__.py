"""CloudWatch alarms as AWS evaluates them: metric math, one event and quiet, composite rules."""
